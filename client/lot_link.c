/*  lot_link - one connection to the server: connect and retry, I/O with deadlines  */
#include "lot_link.h"
#include "lot_codec.h"
#include "lot_dial.h"
#include "lot_inbox.h"
#include "lot_secure.h"
#include "lot_signals.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_REJECTED "rejected by the server: "
#define S_TEXT_MAX 200              //  Bytes kept of an error reason

//  How long a connect may wait for an answer when the name has other
//  addresses to try. A front-end on a live host answers a SYN within a
//  round trip, milliseconds in a swarm, and 2 s leaves room for one lost
//  SYN (the kernel sends it again after 1 s); a host that is down or
//  drops SYNs would otherwise hold the attempt about 2 minutes (until
//  tcp_syn_retries are spent) while another replica answers at once.
//  Not loop.period: that is the pause between attempts, and may be 0.
#define S_CONNECT_ANSWER_MS 2000

struct _lot_link_t {
    const lot_client_config_t *config;
    int fd;                         //  The open connection, or -1
    lot_secure_t *secure;           //  With auth.cert: the CURVE link
    bool secure_open;               //  ... and it is open
    const char *resource;           //  Its name in log lines
    const char *server;             //  The server's address, as configured
    char address [LOT_DIAL_NAME_MAX];   //  The server address last tried
    lot_dial_seed_t seed;           //  Of the order addresses are tried in
    long long deadline;             //  zclock_mono () limit of every wait, or -1
    long deadline_ms;               //  The limit as it was set, for the reason
    lot_inbox_t *inbox;             //  What the server sent, not read yet
    //  Why the last step failed
    char reason [512];
    bool dropped;                   //  The connection went (EOF, reset...)
    bool timed_out;                 //  The deadline passed
    bool said;                      //  A fail line said so already
};

//  ---------------------------------------------------------------------
//  The link's state

lot_link_t *
lot_link_new (const lot_client_config_t *config)
{
    assert (config);
    lot_link_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    self->server = config->auth_cert ? config->auth_address : config->server_address;
    self->fd = -1;
    self->deadline = -1;
    lot_dial_seed_random (&self->seed);
    self->inbox = lot_inbox_new ();
    char *error = NULL;
    if (config->auth_cert
    &&  !(self->secure = lot_secure_new (config->auth_cert, config->auth_server, &error)))
        lot_log_error ("action: autenticacion | result: fail | reason: %s",
                       error ? error : "out of memory");
    free (error);
    if (!self->inbox || (config->auth_cert && !self->secure)) {
        lot_link_destroy (&self);
        return NULL;
    }
    return self;
}

void
lot_link_destroy (lot_link_t **self_p)
{
    if (*self_p) {
        lot_link_close (*self_p, LOT_LOG_DEBUG);
        lot_inbox_destroy (&(*self_p)->inbox);
        lot_secure_destroy (&(*self_p)->secure);
        free (*self_p);
        *self_p = NULL;
    }
}

int
lot_link_fail (lot_link_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (self->reason, sizeof self->reason, format, args);
    va_end (args);
    return -1;
}

//  The connection went: worth another connection, in v2 and for winners.
static int
s_dropped (lot_link_t *self, const char *what, int error)
{
    self->dropped = true;
    if (error == 0)
        return lot_link_fail (self, "the server closed the connection");
    return lot_link_fail (self, "%s: %s", what, strerror (error));
}

const char *
lot_link_reason (lot_link_t *self)
{
    return self->reason;
}

bool
lot_link_dropped (lot_link_t *self)
{
    return self->dropped;
}

bool
lot_link_said (lot_link_t *self)
{
    return self->said;
}

bool
lot_link_rejected (lot_link_t *self, const char *reason)
{
    size_t prefix = strlen (S_REJECTED);
    return strncmp (self->reason, S_REJECTED, prefix) == 0
        && strcmp (self->reason + prefix, reason) == 0;
}

void
lot_link_set_deadline (lot_link_t *self, long ms)
{
    self->deadline = ms < 0 ? -1 : zclock_mono () + ms;
    self->deadline_ms = ms;
    if (ms >= 0)
        self->timed_out = false;
}

//  ---------------------------------------------------------------------
//  Waits and blocking I/O: each returns 0, or -1 with the reason set

//  Waits for events on the count items, or just for the time when count
//  is 0; timeout_ms < 0 waits for ever. Never past self->deadline. The
//  signals get in here only. Returns 1 when ready, 0 on timeout, -1 when
//  a signal stopped the wait, the deadline passed (self->timed_out) or
//  poll failed.
static int
s_wait_items (lot_link_t *self, struct pollfd *items, nfds_t count, long timeout_ms)
{
    long long deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    bool cut = self->deadline >= 0 && (deadline < 0 || self->deadline <= deadline);
    if (cut)
        deadline = self->deadline;
    while (!lot_signals_caught ()) {
        struct timespec left, *limit = NULL;
        if (deadline >= 0) {
            long long ms = deadline - zclock_mono ();
            ms = ms < 0 ? 0 : ms;
            left = (struct timespec) { .tv_sec = ms / 1000,
                                       .tv_nsec = ms % 1000 * 1000000 };
            limit = &left;
        }
        int rc = ppoll (items, count, limit, lot_signals_wait_mask ());
        if (rc > 0)
            return 1;
        if (rc == 0 && !cut)
            return 0;
        if (rc == 0) {
            self->timed_out = true;
            return lot_link_fail (self, "no answer within %ldms", self->deadline_ms);
        }
        if (errno != EINTR)
            return lot_link_fail (self, "poll: %s", strerror (errno));
    }
    return lot_link_fail (self, "stopped by a signal");
}

//  The same on one fd, or for the time alone when fd < 0.
static int
s_wait (lot_link_t *self, int fd, short events, long timeout_ms)
{
    struct pollfd item = { .fd = fd, .events = events };
    return s_wait_items (self, fd >= 0 ? &item : NULL, fd >= 0, timeout_ms);
}

//  Waits until the CURVE link may have something to say (libzmq's
//  descriptors signal a change, not a level: the caller asks the link
//  again), or until, a zclock_mono time, passed (< 0: no limit but the
//  deadline). Returns as s_wait_items.
static int
s_wait_secure (lot_link_t *self, long long until)
{
    int fds [2];
    lot_secure_fds (self->secure, fds);
    struct pollfd items [2] = { { .fd = fds [0], .events = POLLIN },
                                { .fd = fds [1], .events = POLLIN } };
    long long left = until - zclock_mono ();
    return s_wait_items (self, items, 2, until < 0 ? -1 : left > 0 ? (long) left : 0);
}

int
lot_link_pause (lot_link_t *self, long ms)
{
    return s_wait (self, -1, 0, ms) < 0 ? -1 : 0;
}

//  Waits for the server to take or give bytes. A server that does neither
//  within server.timeout is as good as gone: the connection counts as
//  dropped. Under a deadline (the winners query waits for the draw) only
//  the deadline counts.
static int
s_wait_server (lot_link_t *self, short events)
{
    long patience = self->deadline >= 0 ? -1 : self->config->server_timeout;
    int ready = s_wait (self, self->fd, events, patience);
    if (ready > 0)
        return 0;
    if (ready == 0) {
        self->dropped = true;
        return lot_link_fail (self, "no answer from the server within %ldms", patience);
    }
    return -1;
}

//  What the CURVE link is asked to do.
typedef enum { S_SEND, S_FLUSH, S_RECV } s_step_t;

//  One try of a step: 0 done, 1 not yet, -1 the link is down.
static int
s_secure_try (lot_link_t *self, s_step_t step, const void *data, size_t size)
{
    if (step == S_SEND)
        return lot_secure_send (self->secure, data, size);
    if (step == S_FLUSH)
        return lot_secure_flush (self->secure);
    int got = lot_secure_recv (self->secure, self->inbox);
    return got > 0 ? 0 : got == 0 ? 1 : -1;
}

//  The CURVE link's send, flush and receive: as the TCP ones, on
//  messages. A server silent for server.timeout (or past the deadline)
//  is as good as gone.
static int
s_secure_io (lot_link_t *self, s_step_t step, const void *data, size_t size)
{
    long patience = self->deadline >= 0 ? -1 : self->config->server_timeout;
    long long until = patience < 0 ? -1 : zclock_mono () + patience;
    while (true) {
        int rc = s_secure_try (self, step, data, size);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            self->dropped = true;
            return lot_link_fail (self, "%s", lot_secure_reason (self->secure));
        }
        int ready = s_wait_secure (self, until);
        if (ready < 0)
            return -1;
        if (ready == 0) {
            self->dropped = true;
            return lot_link_fail (self, "no answer from the server within %ldms", patience);
        }
    }
}

int
lot_link_send (lot_link_t *self, const void *data, size_t size)
{
    if (self->secure)
        return s_secure_io (self, S_SEND, data, size);
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

//  Reads what the server sent into the inbox, waiting for at least one
//  byte.
static int
s_fill (lot_link_t *self)
{
    //  What the link holds goes before it waits for the answer
    if (self->secure)
        return s_secure_io (self, S_FLUSH, NULL, 0) ? -1 : s_secure_io (self, S_RECV, NULL, 0);
    size_t room;
    uint8_t *at = lot_inbox_room (self->inbox, &room);
    if (!at)
        return lot_link_fail (self, "an answer of more than %d bytes from the server",
                              LOT_INBOX_MAX);
    while (true) {
        if (s_wait_server (self, POLLIN))
            return -1;
        ssize_t got = recv (self->fd, at, room, 0);
        if (got > 0) {
            lot_inbox_received (self->inbox, (size_t) got);
            return 0;
        }
        if (got == 0)
            return s_dropped (self, "recv", 0);
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return s_dropped (self, "recv", errno);
    }
}

//  Reads until the answer of that kind at the inbox's front is whole: 1
//  when it is (taken), 0 when the bytes are no such answer, -1 when the
//  link failed.
static int
s_recv (lot_link_t *self, lot_answer_kind_t kind, lot_answer_t *answer)
{
    lot_codec_status_t status;
    while ((status = lot_inbox_take (self->inbox, kind, answer)) == LOT_CODEC_INCOMPLETE)
        if (s_fill (self))
            return -1;
    return status == LOT_CODEC_COMPLETE;
}

int
lot_link_recv (lot_link_t *self, lot_answer_kind_t kind, lot_answer_t *answer)
{
    int rc = s_recv (self, kind, answer);
    if (rc)
        return rc > 0 ? 0 : -1;
    if ((rc = s_recv (self, LOT_ANSWER_ERROR, answer)) < 0)
        return -1;
    if (rc > 0) {
        char text [S_TEXT_MAX];
        lot_log_printable (answer->reason.data, answer->reason.size, text, sizeof text);
        return lot_link_fail (self, S_REJECTED "%s", text);
    }
    size_t size;
    const uint8_t *front = lot_inbox_front (self->inbox, &size);
    //  Byte 5, after the tag and stored, is its finished byte
    if (front [0] == LOT_TAG_STORED && size >= 6)
        return lot_link_fail (self, "unexpected answer from the server: 'S' with"
                              " finished 0x%02x", front [5]);
    return lot_link_fail (self, "unexpected answer 0x%02x from the server", front [0]);
}

//  ---------------------------------------------------------------------
//  Connections

//  Connects to address, waiting up to timeout_ms for an answer (< 0: for
//  as long as the kernel tries).
static int
s_connect_address (lot_link_t *self, const struct addrinfo *address, long timeout_ms)
{
    int fd = socket (address->ai_family,
                     address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                     address->ai_protocol);
    if (fd < 0)
        return lot_link_fail (self, "socket: %s", strerror (errno));
    if (connect (fd, address->ai_addr, address->ai_addrlen) == 0) {
        self->fd = fd;
        return 0;
    }
    int error = errno;
    if (error == EINPROGRESS) {
        socklen_t size = sizeof error;
        int ready = s_wait (self, fd, POLLOUT, timeout_ms);
        if (ready <= 0) {
            close (fd);
            return ready < 0 ? -1 : lot_link_fail (self, "no answer to connect within"
                                                   " %ldms", timeout_ms);
        }
        if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &size))
            error = errno;
    }
    if (error == 0) {
        self->fd = fd;
        return 0;
    }
    close (fd);
    return lot_link_fail (self, "%s", strerror (error));
}

//  Resolves the server's name again (a front-end may have come or gone)
//  and tries its addresses in a random order until one connects. When
//  the name has several, each may take S_CONNECT_ANSWER_MS to answer,
//  each that fails says so in a DEBUG line, and the reason of the last
//  says how many were tried.
static int
s_connect_once (lot_link_t *self)
{
    const lot_client_config_t *config = self->config;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *addresses;
    int rc = getaddrinfo (config->server_host, config->server_port, &hints, &addresses);
    if (rc)
        return lot_link_fail (self, "cannot resolve %s: %s", config->server_host,
                              rc == EAI_SYSTEM ? strerror (errno) : gai_strerror (rc));
    size_t count = lot_dial_count (addresses);
    const struct addrinfo **order = calloc (count, sizeof *order);
    if (!order) {
        freeaddrinfo (addresses);
        return lot_link_fail (self, "out of memory");
    }
    lot_dial_order (addresses, &self->seed, order, count);
    rc = -1;
    for (size_t i = 0; i < count && rc && !lot_signals_caught () && !self->timed_out; i++) {
        lot_dial_name (order [i], self->address, sizeof self->address);
        rc = s_connect_address (self, order [i], count > 1 ? S_CONNECT_ANSWER_MS : -1);
        if (rc && count > 1 && !lot_signals_caught () && !self->timed_out)
            lot_log_debug ("action: conectar | result: in_progress | server: %s"
                           " | address: %s | reason: %s", self->server,
                           self->address, self->reason);
    }
    if (rc && count > 1 && !lot_signals_caught () && !self->timed_out) {
        char last [sizeof self->reason];
        snprintf (last, sizeof last, "%s", self->reason);
        lot_link_fail (self, "%s (all %zu addresses of %s)", last, count,
                       config->server_host);
    }
    free (order);
    freeaddrinfo (addresses);
    return rc;
}

//  Opens the CURVE link and waits for its handshake: the server proves
//  the key auth.server pins, and lets the agency's key in.
static int
s_connect_secure (lot_link_t *self)
{
    const lot_client_config_t *config = self->config;
    snprintf (self->address, sizeof self->address, "%s", config->auth_address);
    if (lot_secure_open (self->secure, config->auth_address))
        return lot_link_fail (self, "%s", lot_secure_reason (self->secure));
    self->secure_open = true;
    long long until = zclock_mono () + config->server_timeout;
    lot_secure_state_t state;
    while ((state = lot_secure_state (self->secure)) == LOT_SECURE_WAITING) {
        int ready = s_wait_secure (self, until);
        if (ready < 0)
            return -1;
        if (ready == 0)
            return lot_link_fail (self, "no CURVE handshake with %s within %ldms",
                                  config->auth_address, config->server_timeout);
    }
    if (state == LOT_SECURE_DOWN)
        return lot_link_fail (self, "%s", lot_secure_reason (self->secure));
    return 0;
}

//  One try: 0 when connected and greeted, 1 when worth another try, -1
//  when not. A greeting that asks for it is tried again at once.
static int
s_connect_try (lot_link_t *self, lot_link_greet_fn *greet, void *arg)
{
    while (true) {
        self->dropped = false;
        if (self->secure ? s_connect_secure (self) : s_connect_once (self))
            return lot_signals_caught () || self->timed_out ? -1 : 1;
        int rc = greet ? greet (arg, self) : 0;
        if (rc)
            lot_link_close (self, LOT_LOG_DEBUG);
        if (rc != 2)
            return rc;
    }
}

int
lot_link_connect (lot_link_t *self, const char *resource, lot_link_greet_fn *greet,
                  void *arg)
{
    const lot_client_config_t *config = self->config;
    self->resource = resource;
    self->said = false;
    int rc;
    for (long attempt = 1; ; attempt++) {
        rc = s_connect_try (self, greet, arg);
        if (rc == 0) {
            lot_log_debug ("action: conectar | result: success | resource: %s"
                           " | server: %s | address: %s", resource,
                           self->server, self->address);
            return 0;
        }
        if (lot_signals_caught () || self->timed_out)
            return -1;
        if (rc < 0 || attempt >= config->loop_amount)
            break;
        lot_log_info ("action: conectar | result: in_progress | server: %s"
                      " | intento: %ld | reason: %s",
                      self->server, attempt, self->reason);
        if (lot_link_pause (self, config->loop_period))
            return -1;
    }
    if (rc < 0)
        lot_log_error ("action: conectar | result: fail | server: %s | reason: %s",
                       self->server, self->reason);
    else
        lot_log_error ("action: conectar | result: fail | server: %s | intentos: %ld"
                       " | reason: %s", self->server, config->loop_amount,
                       self->reason);
    self->said = true;
    return -1;
}

void
lot_link_close (lot_link_t *self, lot_log_level_t level)
{
    lot_inbox_clear (self->inbox);
    if (self->fd >= 0 || self->secure_open) {
        if (self->fd >= 0)
            close (self->fd);
        if (self->secure_open)
            lot_secure_close (self->secure);
        self->fd = -1;
        self->secure_open = false;
        lot_log (level, "action: close | result: success | resource: %s",
                 self->resource);
    }
}

void
lot_link_close_dropped (lot_link_t *self)
{
    lot_log_info ("action: reconectar | result: in_progress | agencia: %ld"
                  " | reason: %s", self->config->id, self->reason);
    lot_link_close (self, LOT_LOG_DEBUG);
}
