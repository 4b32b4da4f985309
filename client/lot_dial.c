/*  lot_dial - the order in which a client tries a server's addresses  */
#include "lot_dial.h"

#include <czmq.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

void
lot_dial_seed (lot_dial_seed_t *seed, uint64_t value)
{
    for (int i = 0; i < 3; i++)
        seed->state [i] = (unsigned short) (value >> (16 * i));
}

void
lot_dial_seed_random (lot_dial_seed_t *seed)
{
    uint64_t value;
    if (getrandom (&value, sizeof value, GRND_NONBLOCK) != (ssize_t) sizeof value)
        value = (uint64_t) zclock_usecs () ^ ((uint64_t) getpid () << 32);
    lot_dial_seed (seed, value);
}

size_t
lot_dial_count (const struct addrinfo *list)
{
    size_t count = 0;
    for (; list; list = list->ai_next)
        count++;
    return count;
}

int
lot_dial_order (const struct addrinfo *list, lot_dial_seed_t *seed,
                const struct addrinfo **order, size_t capacity)
{
    size_t count = lot_dial_count (list);
    if (count > capacity || count > INT_MAX)
        return -1;
    for (size_t i = 0; i < count; i++, list = list->ai_next)
        order [i] = list;
    //  Fisher-Yates, from the back: position i gets one of the i + 1
    //  addresses not placed yet. The modulo's bias, (i + 1) in 2^31, is
    //  nothing for the few addresses of a name.
    for (size_t i = count; i > 1; i--) {
        size_t pick = (size_t) nrand48 (seed->state) % i;
        const struct addrinfo *kept = order [i - 1];
        order [i - 1] = order [pick];
        order [pick] = kept;
    }
    return (int) count;
}

int
lot_dial_name (const struct addrinfo *address, char *text, size_t capacity)
{
    char host [NI_MAXHOST], port [NI_MAXSERV];
    int rc = -1;
    if (getnameinfo (address->ai_addr, address->ai_addrlen, host, sizeof host,
                     port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        const char *format = address->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s";
        int size = snprintf (text, capacity, format, host, port);
        rc = size >= 0 && (size_t) size < capacity ? 0 : -1;
    }
    if (rc)
        snprintf (text, capacity, "?");
    return rc;
}
