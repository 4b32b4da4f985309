/*  lot_zap - the process's ZAP handler: which CURVE clients get in, and as whom  */
#include "lot_zap.h"
#include "lot_curve.h"
#include "lot_enrolled.h"
#include "lot_log.h"

#include <string.h>
#include <sys/prctl.h>

#define S_ENDPOINT "inproc://zeromq.zap.01"
#define S_CHECK_MSECS 1000          //  How often the agencies' directory is looked at

typedef struct {
    zsock_t *pipe;
    zsock_t *handler;               //  REP: libzmq's ZAP requests
    zcertstore_t *actors;           //  NULL: no actor gets in
    lot_enrolled_t *agencies;       //  NULL: no agency gets in
    bool terminated;
} self_t;

typedef struct {
    const char *actors_dir;
    const char *agencies_dir;
    long agencies;
    size_t actor_keys;              //  How many actors' keys were read
    char *error;                    //  Why it could not start
} s_args_t;

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zsock_destroy (&self->handler);
        zcertstore_destroy (&self->actors);
        lot_enrolled_destroy (&self->agencies);
        free (self);
        *self_p = NULL;
    }
}

static self_t *
s_self_new (zsock_t *pipe, s_args_t *args)
{
    self_t *self = calloc (1, sizeof *self);
    assert (self);
    self->pipe = pipe;
    if (args->actors_dir
    &&  !(self->actors = lot_curve_store_new (args->actors_dir, &args->actor_keys,
                                              &args->error))) {
        s_self_destroy (&self);
        return NULL;
    }
    if (args->agencies_dir
    &&  !(self->agencies = lot_enrolled_new (args->agencies_dir, args->agencies,
                                             &args->error))) {
        s_self_destroy (&self);
        return NULL;
    }
    self->handler = zsock_new (ZMQ_REP);
    if (!self->handler || zsock_bind (self->handler, S_ENDPOINT)) {
        args->error = zsys_sprintf ("cannot bind %s: another ZAP handler?", S_ENDPOINT);
        s_self_destroy (&self);
    }
    return self;
}

//  Whether a frame holds exactly text.
static bool
s_is (zframe_t *frame, const char *text)
{
    return frame && zframe_size (frame) == strlen (text)
        && memcmp (zframe_data (frame), text, zframe_size (frame)) == 0;
}

zmsg_t *
lot_zap_answer (zmsg_t *request, zcertstore_t *actors, lot_enrolled_t *agencies)
{
    //  version, request id, domain, address, routing id, mechanism, key
    zframe_t *frames [7] = { zmsg_first (request) };
    for (size_t i = 1; i < 7; i++)
        frames [i] = frames [i - 1] ? zmsg_next (request) : NULL;
    zframe_t *key = frames [6];
    char user [16] = "";
    const char *refusal = "not a CURVE client";
    if (s_is (frames [0], "1.0") && s_is (frames [5], "CURVE")
    &&  key && zframe_size (key) == 32 && !zmsg_next (request)) {
        if (s_is (frames [2], LOT_ZAP_AGENCIES)) {
            unsigned agency = agencies ? lot_enrolled_agency (agencies, zframe_data (key)) : 0;
            if (agency) {
                snprintf (user, sizeof user, "%u", agency);
                refusal = NULL;
            }
            else
                refusal = "the key is no enrolled agency's";
        }
        else {
            char text [41];
            zmq_z85_encode (text, zframe_data (key), 32);
            refusal = actors && zcertstore_lookup (actors, text)
                    ? NULL : "the key is not in CURVE_PUBLIC_DIR";
        }
    }
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    if (frames [1])
        zmsg_addmem (reply, zframe_data (frames [1]), zframe_size (frames [1]));
    else
        zmsg_addstr (reply, "");
    zmsg_addstr (reply, refusal ? "400" : "200");
    zmsg_addstr (reply, refusal ? refusal : "OK");
    zmsg_addstr (reply, user);
    zmsg_addmem (reply, NULL, 0);               //  No metadata
    return reply;
}

//  The frame at index of a message, or NULL.
static zframe_t *
s_frame (zmsg_t *msg, size_t index)
{
    zframe_t *frame = zmsg_first (msg);
    while (frame && index--)
        frame = zmsg_next (msg);
    return frame;
}

//  Answers one request, and logs what it says of an agency's key with its
//  peer's address.
static void
s_self_handle_request (self_t *self)
{
    zmsg_t *request = zmsg_recv (self->handler);
    if (!request)
        return;
    zmsg_t *reply = lot_zap_answer (request, self->actors, self->agencies);
    if (s_is (s_frame (request, 2), LOT_ZAP_AGENCIES)) {
        zframe_t *address = s_frame (request, 3);
        char *peer = address ? zframe_strdup (address) : strdup ("unknown");
        char *reason = zframe_strdup (s_frame (reply, 3));
        char *user = zframe_strdup (s_frame (reply, 4));
        if (*user)
            lot_log_debug ("action: autenticacion | result: success | agencia: %s"
                           " | peer: %s", user, peer);
        else
            lot_log_error ("action: autenticacion | result: fail | reason: %s | peer: %s",
                           reason, peer);
        zstr_free (&peer), zstr_free (&reason), zstr_free (&user);
    }
    zmsg_send (&reply, self->handler);
    zmsg_destroy (&request);
}

static void
s_self_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else
    if (streq (command, "RELOAD") && self->agencies)
        lot_enrolled_reload (&self->agencies, true, "zap");
    zstr_free (&command);
}

static void
s_zap_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, args);
    prctl (PR_SET_NAME, "zap");     //  As the actors: top, perf and gdb tell it
    zsock_signal (pipe, self ? 0 : 1);
    zpoller_t *poller = self ? zpoller_new (pipe, self->handler, NULL) : NULL;
    int64_t check_at = zclock_mono () + S_CHECK_MSECS;
    while (self && !self->terminated) {
        int64_t left = check_at - zclock_mono ();
        void *which = zpoller_wait (poller, left > 0 ? (int) left : 0);
        if (which == pipe)
            s_self_handle_pipe (self);
        else
        if (which == self->handler)
            s_self_handle_request (self);
        else
        //  A signal that lands in this thread is the main thread's to act
        //  on (its handler ran): without this handler libzmq would let
        //  every CURVE client in, so only the end of libzmq ends it
        if (zpoller_terminated (poller) && zmq_errno () != EINTR)
            break;
        if (self->agencies && zclock_mono () >= check_at) {
            lot_enrolled_reload (&self->agencies, false, "zap");
            check_at = zclock_mono () + S_CHECK_MSECS;
        }
    }
    zpoller_destroy (&poller);
    s_self_destroy (&self);
}

zactor_t *
lot_zap_new (const char *actors_dir, const char *agencies_dir, long agencies,
             size_t *actor_keys, char **error)
{
    s_args_t args = { .actors_dir = actors_dir, .agencies_dir = agencies_dir,
                      .agencies = agencies };
    zactor_t *actor = zactor_new (s_zap_actor, &args);
    if (actor && args.error)
        zactor_destroy (&actor);
    *error = args.error;
    *actor_keys = args.actor_keys;
    return actor;
}
