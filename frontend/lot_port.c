/*  lot_port - the agencies' plain TCP port, served in the front-end's own thread  */
#include "lot_port.h"
#include "lot_log.h"

#include <czmq.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define EVENTS_MAX  256             //  Events taken from the kernel at once
#define READ_MAX    65536           //  Bytes read at once: eight packets
#define OUTBOX_MAX  65536           //  Bytes a connection may have waiting
#define LISTENER    UINT64_MAX      //  The listener's epoll data
#define PAUSE_MSECS 100             //  No accepting for this long when out of
                                    //  descriptors (the kernel keeps the rest)

typedef struct {
    uint64_t id;                    //  generation << 32 | fd
    char peer [INET_ADDRSTRLEN];
    char local [INET_ADDRSTRLEN + 16];      //  tcp://address:port, our end
    uint8_t *outbox;                //  Bytes the kernel did not take yet
    size_t queued;                  //  Their end in outbox
    size_t sent;                    //  How many of them went
    size_t capacity;
    int64_t closing_at;             //  Closed from our side at; 0: open
    bool writing;                   //  Watched for room to write
} s_conn_t;

struct _lot_port_t {
    const lot_settings_t *settings;
    lot_sockets_t *sockets;         //  The actor's: where events are told
    const char *name;
    char endpoint [32];             //  As bound
    int listener;
    int epoll;
    int port;
    bool listening;                 //  Bound, and said so
    s_conn_t **by_fd;               //  Open connections, by descriptor
    size_t slots;
    uint32_t generation;            //  The last one given
    int64_t paused_until;           //  Accepting again at; 0: accepting
    zlistx_t *closing;              //  Ids closed with bytes still waiting
    struct epoll_event events [EVENTS_MAX];
    int ready;                      //  Events from the last epoll_wait
    int next;                       //  The next of them to take
    uint8_t buffer [READ_MAX];
};

//  ---------------------------------------------------------------------
//  Connections

static s_conn_t *
s_lookup (lot_port_t *self, uint64_t id)
{
    size_t fd = (size_t) (id & UINT32_MAX);
    s_conn_t *conn = fd < self->slots ? self->by_fd [fd] : NULL;
    return conn && conn->id == id ? conn : NULL;
}

static int
s_fd (s_conn_t *conn)
{
    return (int) (conn->id & UINT32_MAX);
}

//  Closes a connection's descriptor and forgets it.
static void
s_conn_destroy (lot_port_t *self, s_conn_t **conn_p)
{
    s_conn_t *conn = *conn_p;
    int fd = s_fd (conn);
    lot_sockets_report (self->sockets, self->name, "DISCONNECTED", fd, conn->local);
    self->by_fd [fd] = NULL;
    close (fd);                     //  Which takes it out of the epoll set too
    free (conn->outbox);
    free (conn);
    *conn_p = NULL;
}

//  Watches a connection for bytes, and for room to write while its
//  outbox holds some.
static void
s_watch (lot_port_t *self, s_conn_t *conn, int op)
{
    conn->writing = conn->queued > conn->sent;
    struct epoll_event event = {
        .events = EPOLLIN | (conn->writing ? EPOLLOUT : 0),
        .data.u64 = conn->id
    };
    int rc = epoll_ctl (self->epoll, op, s_fd (conn), &event);
    assert (rc == 0);               //  Only our own mistakes fail it
}

//  Our end of a connection, as libzmq names it in its events.
static void
s_local_endpoint (int fd, char *endpoint, size_t size)
{
    struct sockaddr_in address = { .sin_port = 0 };
    socklen_t length = sizeof address;
    char ip [INET_ADDRSTRLEN] = "0.0.0.0";
    if (getsockname (fd, (struct sockaddr *) &address, &length) == 0)
        inet_ntop (AF_INET, &address.sin_addr, ip, sizeof ip);
    snprintf (endpoint, size, "tcp://%s:%d", ip, ntohs (address.sin_port));
}

//  A new connection from the listener, or NULL when none waits.
static s_conn_t *
s_accept (lot_port_t *self)
{
    struct sockaddr_in address;
    socklen_t size = sizeof address;
    int fd = accept4 (self->listener, (struct sockaddr *) &address, &size,
                      SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
        //  Level-triggered, the listener would wake us again at once
        lot_log_error ("action: conexion | result: fail | reason: accept: %s",
                       strerror (errno));
        epoll_ctl (self->epoll, EPOLL_CTL_DEL, self->listener, NULL);
        self->paused_until = zclock_mono () + PAUSE_MSECS;
    }
    if (fd < 0)
        return NULL;
    if ((size_t) fd >= self->slots) {
        size_t slots = self->slots * 2 > (size_t) fd ? self->slots * 2 : (size_t) fd + 1;
        self->by_fd = realloc (self->by_fd, slots * sizeof *self->by_fd);
        assert (self->by_fd);
        memset (self->by_fd + self->slots, 0, (slots - self->slots) * sizeof *self->by_fd);
        self->slots = slots;
    }
    s_conn_t *conn = calloc (1, sizeof *conn);
    assert (conn);
    conn->id = (uint64_t) ++self->generation << 32 | (uint64_t) fd;
    if (!inet_ntop (AF_INET, &address.sin_addr, conn->peer, sizeof conn->peer))
        strcpy (conn->peer, "unknown");
    s_local_endpoint (fd, conn->local, sizeof conn->local);
    self->by_fd [fd] = conn;
    s_watch (self, conn, EPOLL_CTL_ADD);
    lot_sockets_report (self->sockets, self->name, "ACCEPTED", fd, conn->local);
    return conn;
}

//  Writes what the kernel takes of size bytes. Returns how many, or -1
//  when the peer is gone.
static ssize_t
s_write (s_conn_t *conn, const void *data, size_t size)
{
    ssize_t rc;
    do
        rc = send (s_fd (conn), data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (rc < 0 && errno == EINTR);
    return rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : rc;
}

//  Writes what waits in the outbox. Returns 0, or -1 when the peer is
//  gone (the connection is destroyed).
static int
s_flush (lot_port_t *self, s_conn_t **conn_p)
{
    s_conn_t *conn = *conn_p;
    if (conn->queued == conn->sent)
        return 0;               //  An event from before it drained
    ssize_t went = s_write (conn, conn->outbox + conn->sent, conn->queued - conn->sent);
    if (went < 0) {
        s_conn_destroy (self, conn_p);
        return -1;
    }
    conn->sent += (size_t) went;
    if (conn->queued == conn->sent) {
        conn->queued = conn->sent = 0;
        if (conn->closing_at) {
            s_conn_destroy (self, conn_p);
            return 0;
        }
    }
    if (conn->writing != (conn->queued > conn->sent))
        s_watch (self, conn, EPOLL_CTL_MOD);
    return 0;
}

//  ---------------------------------------------------------------------
//  The port

//  Binds and listens; returns 0, or -1 with errno set.
static int
s_listen (lot_port_t *self)
{
    struct sockaddr_in address = {
        .sin_family = AF_INET, .sin_port = htons ((uint16_t) self->settings->port),
        .sin_addr.s_addr = htonl (INADDR_ANY)
    };
    socklen_t size = sizeof address;
    int on = 1;
    self->listener = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    //  As libzmq set its TCP connections: answers go at once, and a peer
    //  that vanished is found. Linux gives each accepted connection the
    //  listener's options: two system calls fewer per agency
    if (self->listener < 0
    ||  setsockopt (self->listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on)
    ||  setsockopt (self->listener, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on)
    ||  setsockopt (self->listener, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on)
    ||  bind (self->listener, (struct sockaddr *) &address, sizeof address)
    ||  listen (self->listener, (int) self->settings->listen_backlog)
    ||  getsockname (self->listener, (struct sockaddr *) &address, &size))
        return -1;
    self->port = ntohs (address.sin_port);
    struct epoll_event event = { .events = EPOLLIN, .data.u64 = LISTENER };
    return epoll_ctl (self->epoll, EPOLL_CTL_ADD, self->listener, &event);
}

lot_port_t *
lot_port_new (const lot_settings_t *settings, lot_sockets_t *sockets, const char *name)
{
    lot_port_t *self = calloc (1, sizeof *self);
    assert (self);
    self->settings = settings;
    self->sockets = sockets;
    self->name = name;
    self->slots = 1024;
    self->by_fd = calloc (self->slots, sizeof *self->by_fd);
    self->closing = zlistx_new ();
    assert (self->by_fd && self->closing);
    self->listener = -1;
    self->epoll = epoll_create1 (EPOLL_CLOEXEC);
    if (self->epoll < 0 || s_listen (self)) {
        const char *error = strerror (errno);
        snprintf (self->endpoint, sizeof self->endpoint, "tcp://*:%ld", settings->port);
        lot_sockets_opened (sockets, name, self->endpoint, error);
        lot_port_destroy (&self);
        return NULL;
    }
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://0.0.0.0:%d", self->port);
    lot_sockets_opened (sockets, name, self->endpoint, NULL);
    self->listening = true;
    lot_sockets_report (sockets, name, "LISTENING", self->listener, self->endpoint);
    return self;
}

void
lot_port_destroy (lot_port_t **self_p)
{
    if (*self_p) {
        lot_port_t *self = *self_p;
        for (size_t fd = 0; fd < self->slots; fd++)
            if (self->by_fd [fd]) {
                close ((int) fd);
                free (self->by_fd [fd]->outbox);
                free (self->by_fd [fd]);
            }
        free (self->by_fd);
        zlistx_destroy (&self->closing);
        if (self->listener >= 0)
            close (self->listener);
        if (self->listening)
            lot_sockets_closed (self->sockets, self->name);
        if (self->epoll >= 0)
            close (self->epoll);
        free (self);
        *self_p = NULL;
    }
}

int *
lot_port_handle (lot_port_t *self)
{
    return &self->epoll;
}

int
lot_port_number (lot_port_t *self)
{
    return self->port;
}

//  Reads from a connection the kernel says is ready: bytes, its end, or
//  nothing (a connection closing from our side reads to its end only).
static lot_port_kind_t
s_read (lot_port_t *self, s_conn_t **conn_p, lot_port_event_t *event)
{
    s_conn_t *conn = *conn_p;
    ssize_t rc = recv (s_fd (conn), self->buffer, sizeof self->buffer, MSG_DONTWAIT);
    if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return LOT_PORT_NONE;
    *event = (lot_port_event_t) { .id = conn->id, .peer = conn->peer };
    bool ours = conn->closing_at != 0;
    if (rc > 0 && !ours) {
        event->data = self->buffer;
        event->size = (size_t) rc;
        return LOT_PORT_DATA;
    }
    if (rc > 0)
        return LOT_PORT_NONE;
    s_conn_destroy (self, conn_p);
    return ours ? LOT_PORT_NONE : LOT_PORT_CLOSED;
}

lot_port_kind_t
lot_port_next (lot_port_t *self, lot_port_event_t *event)
{
    while (true) {
        if (self->next == self->ready) {
            self->next = 0;
            self->ready = epoll_wait (self->epoll, self->events, EVENTS_MAX, 0);
            if (self->ready <= 0) {
                self->ready = 0;
                return LOT_PORT_NONE;
            }
        }
        struct epoll_event *ready = &self->events [self->next];
        if (ready->data.u64 == LISTENER) {
            //  One connection at a time, until none waits
            s_conn_t *conn = s_accept (self);
            if (!conn) {
                self->next++;
                continue;
            }
            *event = (lot_port_event_t) {
                .kind = LOT_PORT_OPENED, .id = conn->id, .peer = conn->peer
            };
            return LOT_PORT_OPENED;
        }
        self->next++;
        //  An event for a connection closed since is for no one
        s_conn_t *conn = s_lookup (self, ready->data.u64);
        bool ours = conn && conn->closing_at;
        lot_port_kind_t kind = LOT_PORT_NONE;
        if (conn && (ready->events & EPOLLOUT) && s_flush (self, &conn)) {
            //  The peer is gone, and we were still writing to it
            *event = (lot_port_event_t) { .id = ready->data.u64 };
            kind = ours ? LOT_PORT_NONE : LOT_PORT_CLOSED;
        }
        else
        if (conn && (ready->events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            kind = s_read (self, &conn, event);
        if (kind != LOT_PORT_NONE) {
            event->kind = kind;
            return kind;
        }
    }
}

int
lot_port_send (lot_port_t *self, uint64_t id, const void *data, size_t size)
{
    s_conn_t *conn = s_lookup (self, id);
    if (!conn || conn->closing_at)
        return EHOSTUNREACH;
    size_t waiting = conn->queued - conn->sent;
    if (waiting && waiting + size > OUTBOX_MAX)
        return EAGAIN;
    const uint8_t *rest = data;
    if (!waiting) {
        //  Straight to the kernel, as nearly every answer goes
        ssize_t went = s_write (conn, data, size);
        if (went < 0) {
            s_conn_destroy (self, &conn);
            return EHOSTUNREACH;
        }
        if ((size_t) went == size)
            return 0;
        rest += went;
        size -= (size_t) went;
    }
    if (conn->queued + size > conn->capacity) {
        if (conn->sent) {
            //  What went makes room first
            memmove (conn->outbox, conn->outbox + conn->sent, conn->queued - conn->sent);
            conn->queued -= conn->sent;
            conn->sent = 0;
        }
        if (conn->queued + size > conn->capacity) {
            conn->capacity = conn->queued + size;
            conn->outbox = realloc (conn->outbox, conn->capacity);
            assert (conn->outbox);
        }
    }
    memcpy (conn->outbox + conn->queued, rest, size);
    conn->queued += size;
    if (!conn->writing)
        s_watch (self, conn, EPOLL_CTL_MOD);
    return 0;
}

void
lot_port_close (lot_port_t *self, uint64_t id)
{
    s_conn_t *conn = s_lookup (self, id);
    if (!conn || conn->closing_at)
        return;
    conn->closing_at = zclock_mono ();
    if (conn->queued == conn->sent)
        s_conn_destroy (self, &conn);
    else
        zlistx_add_end (self->closing, (void *) (uintptr_t) id);
}

//  Accepts again once a pause is over. Returns the milliseconds left, or
//  -1 when not paused.
static int64_t
s_resume (lot_port_t *self)
{
    if (!self->paused_until)
        return -1;
    int64_t left = self->paused_until - zclock_mono ();
    if (left > 0)
        return left;
    struct epoll_event event = { .events = EPOLLIN, .data.u64 = LISTENER };
    epoll_ctl (self->epoll, EPOLL_CTL_ADD, self->listener, &event);
    self->paused_until = 0;
    return -1;
}

int64_t
lot_port_expire (lot_port_t *self)
{
    int64_t paused = s_resume (self);
    void *first;
    while ((first = zlistx_first (self->closing))) {
        s_conn_t *conn = s_lookup (self, (uint64_t) (uintptr_t) first);
        int64_t left = conn ? conn->closing_at + self->settings->send_timeout - zclock_mono ()
                            : 0;
        if (left > 0)
            return paused >= 0 && paused < left ? paused : left;
        if (conn)
            s_conn_destroy (self, &conn);
        zlistx_delete (self->closing, zlistx_cursor (self->closing));
    }
    return paused;
}
