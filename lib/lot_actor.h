/*  lot_actor - what every actor of the server shares

    Actors are czmq actors that take the settings as their argument, in
    the shape of czmq's zmonitor: the actor function builds its self_t
    (s_self_new), signals, polls until $TERM, and destroys it. A self_t
    begins with a lot_actor_t, the part every actor has: its pipe, its
    settings, a poller and its sockets.

    Each actor answers "START" on its pipe by opening its sockets and
    signalling 0, or -1 when it cannot (a port in use, a file it cannot
    open, or no self_t at all), so the program that starts it can report
    the failure and exit.
*/
#ifndef LOT_ACTOR_H_INCLUDED
#define LOT_ACTOR_H_INCLUDED

#include "lot_settings.h"
#include "lot_sockets.h"

#include <czmq.h>

typedef struct {
    const char *name;               //  In log lines, and its thread's name
    zsock_t *pipe;                  //  To the thread that started it
    const lot_settings_t *settings;
    zpoller_t *poller;              //  The pipe and the sockets the actor
                                    //  reads (their monitors: lot_watcher)
    lot_sockets_t *sockets;         //  Owns its sockets
    bool terminated;                //  $TERM came, or the pipe broke
    lot_metric_t *received;         //  Messages from other actors, and to
    lot_metric_t *sent;             //  them (lot_actor_messages); NULL: off
} lot_actor_t;

//  Starts an actor and waits for its START answer. Returns NULL when the
//  actor could not start (it has logged why).
zactor_t *lot_actor_start (zactor_fn *actor, const lot_settings_t *settings);

//  A new self_t of size bytes, zeroed but for the lot_actor_t it begins
//  with: a nonstop poller on the pipe (only the main thread stops actors,
//  in order: lot_server) and no socket yet. NULL when it cannot be had.
//  Free it with free, after lot_actor_close.
void *lot_actor_new (size_t size, const char *name, zsock_t *pipe,
                     const lot_settings_t *settings);

//  lottery_actor_messages_total{actor,direction}: the messages an actor
//  took from (direction "in") or handed to ("out") other actors, each a
//  whole message however many chunks or answers it carries. The series
//  of lot_actor_new's received and sent, for a class of an actor that
//  sends or receives for it; NULL when metrics are off.
lot_metric_t *lot_actor_messages (const lot_settings_t *settings, const char *actor,
                                  const char *direction);

//  Closes the sockets (monitors first), then the poller. Idempotent.
void lot_actor_close (lot_actor_t *self);

//  Signals the thread that creates the actor, as zactor_new waits for.
//  An actor that has no self_t (built false) then answers START with
//  failure, so that lot_actor_start reports it, and returns at $TERM.
void lot_actor_signal (zsock_t *pipe, const char *name, bool built);

//  Waits on the poller until something comes or deadline passes
//  (zclock_mono msecs; -1 waits for ever). Returns as zpoller_wait.
void *lot_actor_wait (lot_actor_t *self, int64_t deadline);

//  An actor's own pipe commands: answers one and returns 0, or returns -1
//  for a command it does not know.
typedef int (lot_actor_command_fn) (void *self, const char *command);

//  Answers one command on an actor's pipe: "START" runs start (0 or -1)
//  and signals the status back; "$TERM", or a broken pipe, returns true:
//  the actor is to stop. Any other command goes to command (may be
//  NULL); those it does not know are logged and ignored.
bool lot_actor_handle_pipe (zsock_t *pipe, const char *actor,
                            int (*start) (void *self),
                            lot_actor_command_fn *command, void *self);

//  The same for the actor whose self_t begins with self: sets terminated.
void lot_actor_serve_pipe (lot_actor_t *self, int (*start) (void *self),
                           lot_actor_command_fn *command);

#endif
