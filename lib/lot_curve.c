/*  lot_curve - CURVE security between actors: certificates, and who is let in  */
#include "lot_curve.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  A certificate is some 300 bytes: anything much larger is something else
#define S_MAX_CERT_SIZE 65536

const char *const lot_curve_kinds [] = {
    "broker", "frontend", "handler", "persister", "coordinator", NULL
};

static const byte s_no_key [32];

static void
s_error (char **error, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_error (char **error, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    if (vasprintf (error, format, args) < 0)
        *error = NULL;              //  The caller says "out of memory"
    va_end (args);
}

//  Puts "what: " before an error.
static void
s_error_prefix (char **error, const char *what)
{
    char *reason = *error;
    s_error (error, "%s: %s", what, reason ? reason : "out of memory");
    free (reason);
}

static char *
s_join (const char *dir, const char *name, const char *suffix)
{
    char *path = NULL;
    return asprintf (&path, "%s/%s%s", dir, name, suffix) < 0 ? NULL : path;
}

//  A key in Z85: 40 characters that decode to 32 bytes.
static bool
s_decode (const char *text, byte key [32])
{
    return text && strlen (text) == 40 && zmq_z85_decode (key, text) != NULL;
}

bool
lot_curve_has_secret (zcert_t *cert)
{
    return memcmp (zcert_secret_key (cert), s_no_key, sizeof s_no_key) != 0;
}

zcert_t *
lot_curve_read (const char *path, char **error)
{
    struct stat info;
    if (stat (path, &info) || access (path, R_OK)) {
        s_error (error, "cannot read %s: %s", path, strerror (errno));
        return NULL;
    }
    //  zconfig_load takes a directory or a device as an empty tree
    if (!S_ISREG (info.st_mode) || info.st_size > S_MAX_CERT_SIZE) {
        s_error (error, "%s is not a certificate file", path);
        return NULL;
    }
    //  Read here, not with zconfig_load, which leaks its file handle when
    //  the text does not parse (czmq 4.2.1; fuzz_enrolled found it)
    zchunk_t *text = zchunk_slurp (path, S_MAX_CERT_SIZE);
    zconfig_t *root = text ? zconfig_chunk_load (text) : NULL;
    zchunk_destroy (&text);
    const char *secret_text = root ? zconfig_get (root, "curve/secret-key", NULL) : NULL;
    byte public_key [32], secret_key [32] = { 0 };
    zcert_t *cert = NULL;
    if (root && s_decode (zconfig_get (root, "curve/public-key", NULL), public_key)
    &&  (!secret_text || s_decode (secret_text, secret_key))) {
        cert = zcert_new_from (public_key, secret_key);
        zconfig_t *meta = zconfig_locate (root, "metadata");
        for (zconfig_t *item = meta ? zconfig_child (meta) : NULL; item;
             item = zconfig_next (item))
            zcert_set_meta (cert, zconfig_name (item), "%s", zconfig_value (item));
    }
    else
        s_error (error, "%s is not a certificate (zcert_save format)", path);
    zconfig_destroy (&root);
    return cert;
}

zcert_t *
lot_curve_load_secret (const char *path, char **error)
{
    *error = NULL;
    //  As zcert_load: NAME stands for the pair, and NAME_secret is read
    char *secret = NULL;
    if (asprintf (&secret, "%s_secret", path) < 0)
        return NULL;
    zcert_t *cert = lot_curve_read (access (secret, F_OK) == 0 ? secret : path, error);
    if (cert && !lot_curve_has_secret (cert)) {
        s_error (error, "%s holds no secret key (a public certificate?)", path);
        zcert_destroy (&cert);
    }
    free (secret);
    return cert;
}

zcert_t *
lot_curve_load_public (const char *public_dir, const char *kind, char **error)
{
    *error = NULL;
    char *path = s_join (public_dir, kind, ".pub");
    zcert_t *cert = path ? lot_curve_read (path, error) : NULL;
    free (path);
    return cert;
}

//  Reads every NAME.pub certificate in dir into store, each key once (a
//  file copied under two names is no error). Returns how many keys, or -1
//  with *error set: the directory cannot be read, holds none, or one of
//  them is broken or holds a secret key (which no other host should see).
static int
s_read_dir (const char *dir, zcertstore_t *store, char **error)
{
    DIR *handle = opendir (dir);
    if (!handle) {
        s_error (error, "cannot read %s: %s", dir, strerror (errno));
        return -1;
    }
    int keys = 0;
    struct dirent *entry;
    while (keys >= 0 && (entry = readdir (handle))) {
        const char *name = entry->d_name;
        size_t length = strlen (name);
        if (name [0] == '.' || length < 5 || strcmp (name + length - 4, ".pub") != 0)
            continue;               //  Not a certificate: a README, say
        char *path = s_join (dir, name, "");
        zcert_t *cert = path ? lot_curve_read (path, error) : NULL;
        if (!cert)
            keys = -1;
        else
        if (lot_curve_has_secret (cert)) {
            s_error (error, "%s holds a secret key: public certificates only", path);
            keys = -1;
        }
        else
        if (!zcertstore_lookup (store, zcert_public_txt (cert))) {
            zcertstore_insert (store, &cert);
            keys++;
        }
        zcert_destroy (&cert);
        free (path);
    }
    closedir (handle);
    if (keys == 0) {
        s_error (error, "%s holds no certificate (NAME.pub)", dir);
        keys = -1;
    }
    return keys;
}

int
lot_curve_check (const char *cert, const char *public_dir, char **error)
{
    *error = NULL;
    if (!cert && !public_dir)
        return 0;
    if (!cert || !public_dir) {
        s_error (error, "CURVE_CERT and CURVE_PUBLIC_DIR go together: set both, or neither");
        return -1;
    }
    if (!zsys_has_curve ()) {
        s_error (error, "CURVE_CERT is set, but this libzmq has no CURVE");
        return -1;
    }
    zcert_t *own = lot_curve_load_secret (cert, error);
    if (!own) {
        s_error_prefix (error, "CURVE_CERT");
        return -1;
    }
    zcert_destroy (&own);
    zcertstore_t *store = zcertstore_new (NULL);
    int keys = s_read_dir (public_dir, store, error);
    zcertstore_destroy (&store);
    if (keys < 0) {
        s_error_prefix (error, "CURVE_PUBLIC_DIR");
        return -1;
    }
    return 0;
}

zcertstore_t *
lot_curve_store_new (const char *public_dir, size_t *keys, char **error)
{
    *error = NULL;
    zcertstore_t *store = zcertstore_new (NULL);
    int count = s_read_dir (public_dir, store, error);
    if (count < 0) {
        zcertstore_destroy (&store);
        s_error_prefix (error, "CURVE_PUBLIC_DIR");
        return NULL;
    }
    *keys = (size_t) count;
    return store;
}

int
lot_curve_mkdir (const char *path, mode_t mode, char **error)
{
    if (mkdir (path, mode) == 0 || errno == EEXIST)
        return 0;
    s_error (error, "cannot make %s: %s", path, strerror (errno));
    return -1;
}

//  Writes a new certificate's three files; none of them may exist.
static int
s_write (zcert_t *cert, const char *pair, const char *secret, const char *public,
         char **error)
{
    const char *paths [] = { pair, secret, public };
    for (size_t i = 0; i < 3; i++)
        if (access (paths [i], F_OK) == 0) {
            s_error (error, "%s exists: remove it to make a new key", paths [i]);
            return -1;
        }
    //  zcert_save writes the pair too, but says nothing of the public half
    //  and cuts the secret one's path at 255 bytes
    if (zcert_save_public (cert, pair) || zcert_save_secret (cert, secret)
    ||  zcert_save_public (cert, public)) {
        s_error (error, "cannot write %s: %s", pair, strerror (errno));
        return -1;
    }
    return 0;
}

int
lot_curve_make (const char *dir, const char *name, char **error)
{
    *error = NULL;
    if (!*name || name [0] == '.' || strchr (name, '/')) {
        s_error (error, "'%s' is not a certificate name", name);
        return -1;
    }
    char *secret_dir = s_join (dir, "secret", "");
    char *public_dir = s_join (dir, "public", "");
    char *pair = secret_dir ? s_join (secret_dir, name, "") : NULL;
    char *secret = secret_dir ? s_join (secret_dir, name, "_secret") : NULL;
    char *public = public_dir ? s_join (public_dir, name, ".pub") : NULL;
    zcert_t *cert = zcert_new ();
    int rc = -1;
    if (!cert)
        s_error (error, "cannot make a key: this libzmq has no CURVE");
    else
    if (pair && secret && public
    &&  lot_curve_mkdir (dir, 0755, error) == 0 && lot_curve_mkdir (secret_dir, 0700, error) == 0
    &&  lot_curve_mkdir (public_dir, 0755, error) == 0) {
        zcert_set_meta (cert, "name", "%s", name);
        rc = s_write (cert, pair, secret, public, error);
    }
    zcert_destroy (&cert);
    free (secret_dir);
    free (public_dir);
    free (pair);
    free (secret);
    free (public);
    return rc;
}
