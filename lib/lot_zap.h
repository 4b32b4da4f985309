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

#define LOT_ZAP_AGENCIES "agencies"

//  Starts the handler: actors' keys from actors_dir (NULL: no actor gets
//  in), agencies' from agencies_dir (NULL: none), agencies numbered 1 to
//  agencies; *actor_keys says how many actors' keys it read. Start it
//  before the first CURVE server binds, destroy it after the last closes.
//  Returns NULL with *error set (free it).
zactor_t *lot_zap_new (const char *actors_dir, const char *agencies_dir, long agencies,
                       size_t *actor_keys, char **error);

#endif
