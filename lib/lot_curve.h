/*  lot_curve - CURVE security between actors: certificates, and who is let in

    Off unless CURVE_CERT is set. Then every tcp:// socket between actors
    uses ZeroMQ's CURVE mechanism (encrypted, and each side proves its
    key); the agencies' raw TCP (v1 clients are plain TCP) and inproc://
    sockets never do. The actor that binds an endpoint is the CURVE
    server, with its own certificate; the one that connects is a client,
    with its own certificate and the public key of the actor kind that
    binds that endpoint. Each process with CURVE on runs one ZAP handler
    (lot_zap), which lets in only clients whose public key is in
    CURVE_PUBLIC_DIR.

    Certificates are czmq's (zcert_save format): NAME holds the public
    key, NAME_secret both keys. In the public directory every file named
    NAME.pub is a certificate that is let in, and each actor kind that
    binds (broker, persister, coordinator) has its own there as
    KIND.pub, so a client finds the key of the actor it connects to.
    bin/lottery-keys DIR makes one certificate per actor kind:

        DIR/secret/KIND, DIR/secret/KIND_secret   one actor's own: CURVE_CERT
        DIR/public/KIND.pub                         every host: CURVE_PUBLIC_DIR

    Certificates are read here rather than with zcert_load, and the
    handler is given a store of the keys found at start rather than the
    directory: czmq's directory store asserts on two certificates with the
    same key (and it reads the directory again on every connection, so a
    file copied there mid-run would abort the process). So the actors let
    in are those in the directory when the process starts.
*/
#ifndef LOT_CURVE_H_INCLUDED
#define LOT_CURVE_H_INCLUDED

#include <czmq.h>
#include <sys/types.h>

//  The actor kinds that have a certificate of their own, NULL-terminated.
extern const char *const lot_curve_kinds [];

//  Checks the two settings at start: both unset is CURVE off (returns 0);
//  else a secret certificate that loads and a directory of public ones
//  that can be read. Returns 0, or -1 with *error set (free it).
int lot_curve_check (const char *cert, const char *public_dir, char **error);

//  Reads a certificate file, its metadata included (its secret key is
//  zero when the file holds none). Returns NULL with *error set (free it)
//  when it cannot.
zcert_t *lot_curve_read (const char *path, char **error);

//  Whether a certificate holds a secret key.
bool lot_curve_has_secret (zcert_t *cert);

//  Loads an actor's own certificate: PATH_secret when it exists, else
//  PATH (as zcert_load does), which must hold the secret key. Returns
//  NULL with *error set (free it).
zcert_t *lot_curve_load_secret (const char *path, char **error);

//  Loads the public certificate of an actor kind: PUBLIC_DIR/KIND.pub.
//  Returns NULL with *error set (free it).
zcert_t *lot_curve_load_public (const char *public_dir, const char *kind,
                                char **error);

//  The CURVE clients let in: a store of the public keys in public_dir
//  now, never read again (see above); *keys says how many. lot_zap asks
//  it. Returns NULL with *error set (free it).
zcertstore_t *lot_curve_store_new (const char *public_dir, size_t *keys,
                                   char **error);

//  Makes a new certificate NAME in dir: dir/secret/NAME and NAME_secret
//  (the pair zcert_save writes; the secret one readable by its owner only)
//  and dir/public/NAME.pub. Never overwrites a key. Returns 0, or -1 with
//  *error set (free it).
int lot_curve_make (const char *dir, const char *name, char **error);

//  Makes a directory with mode unless it exists. Returns 0, or -1 with
//  *error set (free it).
int lot_curve_mkdir (const char *path, mode_t mode, char **error);

#endif
