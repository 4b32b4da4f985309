/*  lot_dial - the order in which a client tries a server's addresses

    A server's name may stand for several addresses: Docker's DNS answers
    a service's name with the address of every replica, and a name in a
    hosts file may have an IPv4 and an IPv6 address. The agency client
    resolves the name on every connection attempt, tries one of its
    addresses picked at random (so agencies spread over the front-ends),
    and when it cannot connect there tries the others, in random order
    too, before the attempt counts as failed. A name with one address is
    tried as before.

    The order is drawn from a seed the caller keeps, so that it can be
    tested without a network: the same seed gives the same orders.
*/
#ifndef LOT_DIAL_H_INCLUDED
#define LOT_DIAL_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

struct addrinfo;

//  The random state the orders are drawn from (nrand48's); each order
//  moves it on.
typedef struct {
    unsigned short state [3];
} lot_dial_seed_t;

//  Room for an address as lot_dial_name writes it: "[IPv6%scope]:port"
#define LOT_DIAL_NAME_MAX 80

//  Seeds from value: the same value, the same orders.
void lot_dial_seed (lot_dial_seed_t *seed, uint64_t value);

//  Seeds from the system's random source (getrandom), or from the clock
//  and the process id when it has none: agencies started at once still
//  pick apart.
void lot_dial_seed_random (lot_dial_seed_t *seed);

//  How many addresses the list holds.
size_t lot_dial_count (const struct addrinfo *list);

//  Puts the addresses of list into order (room for capacity of them) in
//  a random order drawn from seed, each order as likely as another: the
//  first is a fair pick of them all, and the ones to try after it when it
//  cannot connect are shuffled as well. Returns how many addresses there
//  are (0 for none), or -1 when capacity is too small for them.
int lot_dial_order (const struct addrinfo *list, lot_dial_seed_t *seed,
                    const struct addrinfo **order, size_t capacity);

//  Writes the address as numbers and port, "127.0.0.1:12345" or
//  "[::1]:12345", for log lines. Returns 0, or -1 when it has no such
//  form (text is then "?").
int lot_dial_name (const struct addrinfo *address, char *text, size_t capacity);

#endif
