/*  lottery-ping - is the server up? The health check's probe.

    Usage: lottery-ping [HOST:PORT]   (default $PING_ADDRESS or server:12345)

    Connects, sends the protocol's ping ('P', which stores nothing), and
    expects 'O'; a name with several addresses is up when one of them
    answers. Prints `action: test_echo_server | result: success` and
    exits 0, or a fail line with the reason and exits 1, within
    PING_TIMEOUT seconds (default 3) whatever the server does; until then
    it tries again, since a server that is starting refuses for a moment.
*/
#include "lot_codec.h"
#include "lot_dial.h"
#include "lot_log.h"

#include <czmq.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

//  Waits for events until the deadline. Returns 0 when ready, else -1.
static int
s_wait (int fd, short events, long long deadline)
{
    struct pollfd item = { fd, events, 0 };
    while (true) {
        long long left = deadline - zclock_mono ();
        if (left <= 0)
            return -1;
        int rc = poll (&item, 1, (int) left);
        if (rc > 0)
            return 0;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

//  Pings one address: NULL when it answered 'O', else why not.
static const char *
s_ping (const struct addrinfo *address, int64_t deadline)
{
    int fd = socket (address->ai_family, address->ai_socktype | SOCK_NONBLOCK,
                     address->ai_protocol);
    const char *reason = NULL;
    int error = 0;
    socklen_t size = sizeof error;
    uint8_t answer = 0;
    if (fd < 0)
        reason = "cannot open a socket";
    else
    if (connect (fd, address->ai_addr, address->ai_addrlen) && errno != EINPROGRESS)
        reason = "connection refused";
    else
    if (s_wait (fd, POLLOUT, deadline)
    ||  getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &size) || error)
        reason = "cannot connect";
    else
    if (send (fd, (char []) { LOT_TAG_PING }, 1, MSG_NOSIGNAL) != 1)
        reason = "cannot send";
    else
    if (s_wait (fd, POLLIN, deadline) || recv (fd, &answer, 1, 0) != 1)
        reason = "no answer";
    else
    if (answer != LOT_TAG_OK)
        reason = "unexpected answer";
    if (fd >= 0)
        close (fd);
    return reason;
}

//  Pings the addresses of host in turn until one answers: a name may
//  stand for several (a service's replicas, an IPv4 and an IPv6 address),
//  and one that is down must not hide the others. Each gets an equal
//  share of the time left, so a silent one cannot take all of it.
//  Returns NULL when one answered, else the last one's reason; *count
//  says how many addresses the name has.
static const char *
s_ping_name (const char *host, const char *port, int64_t deadline, size_t *count)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *addresses;
    *count = 0;
    if (getaddrinfo (host, port, &hints, &addresses))
        return "cannot resolve the server's name";
    *count = lot_dial_count (addresses);
    const char *reason = NULL;
    size_t left = *count;
    for (struct addrinfo *address = addresses; address; address = address->ai_next) {
        int64_t now = zclock_mono ();
        reason = s_ping (address, now + (deadline - now) / (int64_t) left--);
        if (!reason)
            break;
    }
    freeaddrinfo (addresses);
    return reason;
}

int
main (int argc, char *argv [])
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    const char *address = argc > 1 ? argv [1] : getenv ("PING_ADDRESS");
    if (!address)
        address = "server:12345";
    const char *seconds = getenv ("PING_TIMEOUT");
    long timeout = seconds ? atol (seconds) : 3;
    const char *colon = strrchr (address, ':');
    if (!colon || colon == address || timeout <= 0) {
        lot_log_error ("action: test_echo_server | result: fail | server: %s"
                       " | reason: expected HOST:PORT and a PING_TIMEOUT in seconds",
                       address);
        return 2;
    }
    char *host = strndup (address, (size_t) (colon - address));
    //  A server that is starting refuses for a moment: try again until the
    //  deadline, so "up" means answering and "down" still ends in time
    int64_t deadline = zclock_mono () + timeout * 1000;
    const char *reason;
    size_t count;
    while ((reason = s_ping_name (host, colon + 1, deadline, &count))
       &&  zclock_mono () + 100 < deadline)
        zclock_sleep (100);
    if (reason && count > 1)
        lot_log_error ("action: test_echo_server | result: fail | server: %s"
                       " | reason: %s (all %zu addresses of %s)", address, reason,
                       count, host);
    else
    if (reason)
        lot_log_error ("action: test_echo_server | result: fail | server: %s"
                       " | reason: %s", address, reason);
    else
        lot_log_info ("action: test_echo_server | result: success | server: %s", address);
    free (host);
    return reason ? 1 : 0;
}
