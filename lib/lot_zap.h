/*  lot_zap - the process's ZAP handler: which CURVE clients get in, and as whom

    libzmq asks one handler per process (RFC 27, at inproc://zeromq.zap.01)
    about every CURVE client of every socket; with none, it lets every
    client in. Two kinds of socket ask here:

    - the actors' sockets (ZAP domain ""): a key in CURVE_PUBLIC_DIR gets
      in, as czmq's zauth would let it (lot_curve);
    - the agencies' secure socket (domain LOT_ZAP_AGENCIES): an enrolled
      key (lot_enrolled) gets in, and its agency number is the
      connection's User-Id, which each of its messages carries
      (zframe_meta (frame, "User-Id")). czmq 4.2.1's zauth cannot say
      that: it replies with an empty User-Id.

    The enrolled agencies are read again on "RELOAD" (SIGHUP) and when
    their directory changes, checked every second; a read that fails
    keeps the keys there were. A refused agency key is logged with its
    peer's address.
*/
#ifndef LOT_ZAP_H_INCLUDED
#define LOT_ZAP_H_INCLUDED

#include <czmq.h>

#include "lot_enrolled.h"

#define LOT_ZAP_AGENCIES "agencies"

//  Starts the handler: actors' keys from actors_dir (NULL: no actor gets
//  in), agencies' from agencies_dir (NULL: none), agencies numbered 1 to
//  agencies; *actor_keys says how many actors' keys it read. Start it
//  before the first CURVE server binds, destroy it after the last closes.
//  Returns NULL with *error set (free it).
zactor_t *lot_zap_new (const char *actors_dir, const char *agencies_dir, long agencies,
                       size_t *actor_keys, char **error);

//  The reply to one ZAP request (RFC 27: version, request id, domain,
//  address, routing id, mechanism, then the client's 32-byte key):
//  "200" with the agency as User-Id for an enrolled key in domain
//  LOT_ZAP_AGENCIES, "200" for an actor's key in any other, else "400"
//  and why. actors or agencies NULL lets none in. No I/O: the handler's
//  one decision, fuzzed (fuzz_zap).
zmsg_t *lot_zap_answer (zmsg_t *request, zcertstore_t *actors, lot_enrolled_t *agencies);

#endif
