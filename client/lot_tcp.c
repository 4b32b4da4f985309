/*  lot_tcp - the link's plain TCP connection to the server: dial, send, receive  */
#include "lot_tcp.h"
#include "lot_dial.h"
#include "lot_log.h"

#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

//  How long a connect may wait for an answer when the name has other
//  addresses to try. A front-end on a live host answers a SYN within a
//  round trip, milliseconds in a swarm, and 2 s leaves room for one lost
//  SYN (the kernel sends it again after 1 s); a host that is down or
//  drops SYNs would otherwise hold the attempt about 2 minutes (until
//  tcp_syn_retries are spent) while another replica answers at once.
//  Not loop.period: that is the pause between attempts, and may be 0.
#define S_CONNECT_ANSWER_MS 2000

struct _lot_tcp_t {
    const lot_client_config_t *config;
    lot_wait_t *wait;               //  The link's: limits and reasons
    int fd;                         //  The open connection, or -1
    char address [LOT_DIAL_NAME_MAX];   //  The server address last tried
    lot_dial_seed_t seed;           //  Of the order addresses are tried in
};

lot_tcp_t *
lot_tcp_new (const lot_client_config_t *config, lot_wait_t *wait)
{
    assert (config && wait);
    lot_tcp_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    self->wait = wait;
    self->fd = -1;
    lot_dial_seed_random (&self->seed);
    return self;
}

void
lot_tcp_destroy (lot_tcp_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        lot_tcp_close (*self_p);
        free (*self_p);
        *self_p = NULL;
    }
}

const char *
lot_tcp_address (lot_tcp_t *self)
{
    return self->address;
}

bool
lot_tcp_close (lot_tcp_t *self)
{
    if (self->fd < 0)
        return false;
    close (self->fd);
    self->fd = -1;
    return true;
}

//  The connection went: worth another connection, in v2 and for winners.
static int
s_dropped (lot_tcp_t *self, const char *what, int error)
{
    if (error == 0)
        return lot_wait_drop (self->wait, "the server closed the connection");
    char reason [LOT_WAIT_REASON_MAX];
    snprintf (reason, sizeof reason, "%s: %s", what, strerror (error));
    return lot_wait_drop (self->wait, reason);
}

//  Waits for the server to take or give bytes. A server that does neither
//  within server.timeout is as good as gone: the connection counts as
//  dropped. Under a deadline (the winners query waits for the draw) only
//  the deadline counts.
static int
s_wait_server (lot_tcp_t *self, short events)
{
    long patience = lot_wait_patience (self->wait);
    int ready = lot_wait_fd (self->wait, self->fd, events, patience);
    if (ready > 0)
        return 0;
    return ready == 0 ? lot_wait_silent (self->wait, patience) : -1;
}

int
lot_tcp_send (lot_tcp_t *self, const void *data, size_t size)
{
    const uint8_t *next = data;
    while (size > 0) {
        ssize_t sent = send (self->fd, next, size, MSG_NOSIGNAL);
        if (sent >= 0) {
            next += sent;
            size -= (size_t) sent;
        }
        else
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (s_wait_server (self, POLLOUT))
                return -1;
        }
        else
        if (errno != EINTR)
            return s_dropped (self, "send", errno);
    }
    return 0;
}

int
lot_tcp_fill (lot_tcp_t *self, lot_inbox_t *inbox)
{
    size_t room;
    uint8_t *at = lot_inbox_room (inbox, &room);
    if (!at)
        return lot_wait_fail (self->wait, "an answer of more than %d bytes from the"
                              " server", LOT_INBOX_MAX);
    while (true) {
        if (s_wait_server (self, POLLIN))
            return -1;
        ssize_t got = recv (self->fd, at, room, 0);
        if (got > 0) {
            lot_inbox_received (inbox, (size_t) got);
            return 0;
        }
        if (got == 0)
            return s_dropped (self, "recv", 0);
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return s_dropped (self, "recv", errno);
    }
}

//  Connects to address, waiting up to timeout_ms for an answer.
static int
s_connect_address (lot_tcp_t *self, const struct addrinfo *address, long timeout_ms)
{
    int fd = socket (address->ai_family,
                     address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                     address->ai_protocol);
    if (fd < 0)
        return lot_wait_fail (self->wait, "socket: %s", strerror (errno));
    if (connect (fd, address->ai_addr, address->ai_addrlen) == 0) {
        self->fd = fd;
        return 0;
    }
    int error = errno;
    if (error == EINPROGRESS) {
        socklen_t size = sizeof error;
        int ready = lot_wait_fd (self->wait, fd, POLLOUT, timeout_ms);
        if (ready <= 0) {
            close (fd);
            return ready < 0 ? -1 : lot_wait_fail (self->wait, "no answer to connect"
                                                   " within %ldms", timeout_ms);
        }
        if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &size))
            error = errno;
    }
    if (error == 0) {
        self->fd = fd;
        return 0;
    }
    close (fd);
    return lot_wait_fail (self->wait, "%s", strerror (error));
}

//  When the name has several addresses, each may take
//  S_CONNECT_ANSWER_MS to answer, each that fails says so in a DEBUG
//  line, and the reason of the last says how many were tried. One address
//  alone may take server.timeout (the kernel's SYN retries would go on
//  for two minutes).
int
lot_tcp_connect (lot_tcp_t *self)
{
    const lot_client_config_t *config = self->config;
    lot_wait_t *wait = self->wait;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *addresses;
    int rc = getaddrinfo (config->server_host, config->server_port, &hints, &addresses);
    if (rc)
        return lot_wait_fail (wait, "cannot resolve %s: %s", config->server_host,
                              rc == EAI_SYSTEM ? strerror (errno) : gai_strerror (rc));
    size_t count = lot_dial_count (addresses);
    const struct addrinfo **order = calloc (count, sizeof *order);
    if (!order) {
        freeaddrinfo (addresses);
        return lot_wait_fail (wait, "out of memory");
    }
    lot_dial_order (addresses, &self->seed, order, count);
    rc = -1;
    for (size_t i = 0; i < count && rc && !lot_wait_stopped (wait); i++) {
        lot_dial_name (order [i], self->address, sizeof self->address);
        rc = s_connect_address (self, order [i],
                                count > 1 ? S_CONNECT_ANSWER_MS : config->server_timeout);
        if (rc && count > 1 && !lot_wait_stopped (wait))
            lot_log_debug ("action: conectar | result: in_progress | server: %s"
                           " | address: %s | reason: %s", config->server_address,
                           self->address, lot_wait_reason (wait));
    }
    if (rc && count > 1 && !lot_wait_stopped (wait)) {
        char last [LOT_WAIT_REASON_MAX];
        snprintf (last, sizeof last, "%s", lot_wait_reason (wait));
        lot_wait_fail (wait, "%s (all %zu addresses of %s)", last, count,
                       config->server_host);
    }
    free (order);
    freeaddrinfo (addresses);
    return rc;
}
