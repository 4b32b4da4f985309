/*  lot_socket - the sockets of the actors, opened and closed alike  */
#include "lot_socket.h"

zsock_t *
lot_socket_new (int type, const char *endpoint, bool bind,
                const lot_settings_t *settings, const char *actor,
                const char *name)
{
    zsock_t *self = zsock_new (type);
    if (!self) {
        lot_log_error ("action: socket_open | result: fail | actor: %s | socket: %s"
                       " | reason: %s", actor, name, zmq_strerror (zmq_errno ()));
        return NULL;
    }
    zsock_set_sndhwm (self, (int) settings->queue_limit);
    zsock_set_rcvhwm (self, (int) settings->queue_limit);
    zsock_set_backlog (self, (int) settings->listen_backlog);
    zsock_set_tcp_keepalive (self, 1);     //  Finds peers that vanished
    char *address = bind ? lot_endpoint_bind_form (endpoint) : strdup (endpoint);
    int rc = bind ? zsock_bind (self, "%s", address) : zsock_connect (self, "%s", address);
    if (rc == -1) {
        lot_log_error ("action: socket_open | result: fail | actor: %s | socket: %s"
                       " | endpoint: %s | reason: %s", actor, name, address,
                       zmq_strerror (zmq_errno ()));
        zsock_destroy (&self);
    }
    else
        lot_log_debug ("action: socket_open | result: success | actor: %s | socket: %s"
                       " | endpoint: %s | mode: %s", actor, name, address,
                       bind ? "bind" : "connect");
    free (address);
    return self;
}

void
lot_socket_destroy (zsock_t **self_p, const char *actor, const char *name)
{
    if (*self_p) {
        zsock_destroy (self_p);
        lot_log_info ("action: socket_close | result: success | actor: %s | socket: %s",
                      actor, name);
    }
}
