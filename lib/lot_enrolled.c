/*  lot_enrolled - the enrolled agencies: which public key speaks for which agency  */
#include "lot_enrolled.h"
#include "lot_bet.h"
#include "lot_curve.h"
#include "lot_journal.h"
#include "lot_log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct _lot_enrolled_t {
    char *dir;
    long agencies;
    zhashx_t *by_key;           //  Public key (Z85) -> agency, as a pointer
    bool *has;                  //  [1 .. agencies]: a key on file
    bool *revoked;              //  [1 .. agencies]: a key revoked
    size_t enrolled;            //  Agencies with a key
    uint32_t signature;         //  Of the directory as it was read
};

//  What the directory holds: its certificates' names, sizes and times,
//  in any order. Returns 0 when it cannot be read (a read then fails).
static uint32_t
s_signature (const char *dir)
{
    DIR *handle = opendir (dir);
    if (!handle)
        return 0;
    uint32_t signature = 1;
    struct dirent *entry;
    while ((entry = readdir (handle))) {
        struct stat info;
        char *path = NULL;
        if (entry->d_name [0] == '.' || asprintf (&path, "%s/%s", dir, entry->d_name) < 0)
            continue;
        if (stat (path, &info) == 0) {
            char line [512];
            int size = snprintf (line, sizeof line, "%s %lld %lld.%09ld", entry->d_name,
                                 (long long) info.st_size, (long long) info.st_mtim.tv_sec,
                                 info.st_mtim.tv_nsec);
            //  XOR: readdir's order is no order
            signature ^= lot_journal_crc (line, (size_t) size);
        }
        free (path);
    }
    closedir (handle);
    return signature;
}

void
lot_enrolled_destroy (lot_enrolled_t **self_p)
{
    if (*self_p) {
        lot_enrolled_t *self = *self_p;
        zhashx_destroy (&self->by_key);
        free (self->has);
        free (self->revoked);
        free (self->dir);
        free (self);
        *self_p = NULL;
    }
}

//  Takes one certificate file in: 0, or -1 with *error set.
static int
s_take (lot_enrolled_t *self, const char *path, char **error)
{
    zcert_t *cert = lot_curve_read (path, error);
    if (!cert)
        return -1;
    const char *named = zcert_meta (cert, "agency");
    unsigned agency = 0;
    int rc = -1;
    if (lot_curve_has_secret (cert))
        *error = zsys_sprintf ("%s holds a secret key: public certificates only", path);
    else
    if (!named || lot_bet_parse_agency ((lot_span_t) { named, strlen (named) },
                                        (unsigned) self->agencies, &agency))
        *error = zsys_sprintf ("%s names no agency from 1 to %ld in its metadata"
                               " (agency = \"N\")", path, self->agencies);
    else {
        void *other = zhashx_lookup (self->by_key, zcert_public_txt (cert));
        if (other && (uintptr_t) other != agency)
            *error = zsys_sprintf ("%s: its key is agency %u's already", path,
                                   (unsigned) (uintptr_t) other);
        else {
            zhashx_update (self->by_key, zcert_public_txt (cert), (void *) (uintptr_t) agency);
            if (!self->has [agency])
                self->enrolled++;
            self->has [agency] = true;
            rc = 0;
        }
    }
    zcert_destroy (&cert);
    return rc;
}

//  Takes a mark agency-N.revoked in (stem: its name less the suffix): 0,
//  or -1 with *error set.
static int
s_take_revoked (lot_enrolled_t *self, const char *stem, size_t size, char **error)
{
    unsigned agency;
    if (size <= 7 || strncmp (stem, "agency-", 7) != 0
    ||  lot_bet_parse_agency ((lot_span_t) { stem + 7, size - 7 }, (unsigned) self->agencies,
                              &agency)) {
        *error = zsys_sprintf ("%s/%s: a revoked mark names agency-N, N from 1 to %ld",
                               self->dir, stem, self->agencies);
        return -1;
    }
    self->revoked [agency] = true;
    return 0;
}

lot_enrolled_t *
lot_enrolled_new (const char *dir, long agencies, char **error)
{
    *error = NULL;
    lot_enrolled_t *self = calloc (1, sizeof *self);
    assert (self);
    self->dir = strdup (dir);
    self->agencies = agencies;
    self->by_key = zhashx_new ();
    self->has = calloc ((size_t) agencies + 1, sizeof *self->has);
    self->revoked = calloc ((size_t) agencies + 1, sizeof *self->revoked);
    assert (self->dir && self->by_key && self->has && self->revoked);
    self->signature = s_signature (dir);
    DIR *handle = opendir (dir);
    if (!handle) {
        *error = zsys_sprintf ("cannot read %s: %s", dir, strerror (errno));
        lot_enrolled_destroy (&self);
        return NULL;
    }
    struct dirent *entry;
    while (!*error && (entry = readdir (handle))) {
        const char *name = entry->d_name;
        size_t length = strlen (name);
        if (name [0] != '.' && length > 8 && strcmp (name + length - 8, ".revoked") == 0) {
            s_take_revoked (self, name, length - 8, error);
            continue;
        }
        if (name [0] == '.' || length < 5 || strcmp (name + length - 4, ".pub") != 0)
            continue;           //  Not a certificate: a README, say
        char *path = zsys_sprintf ("%s/%s", dir, name);
        s_take (self, path, error);
        zstr_free (&path);
    }
    closedir (handle);
    if (*error)
        lot_enrolled_destroy (&self);
    return self;
}

unsigned
lot_enrolled_agency (lot_enrolled_t *self, const byte key [32])
{
    char text [41];
    zmq_z85_encode (text, key, 32);
    return (unsigned) (uintptr_t) zhashx_lookup (self->by_key, text);
}

//  Whether agency is one of the AGENCIES the arrays hold.
static bool
s_known (lot_enrolled_t *self, unsigned agency)
{
    return agency >= 1 && agency <= (unsigned) self->agencies;
}

bool
lot_enrolled_has (lot_enrolled_t *self, unsigned agency)
{
    return s_known (self, agency) && self->has [agency];
}

bool
lot_enrolled_keyed (lot_enrolled_t *self, unsigned agency)
{
    return s_known (self, agency) && (self->has [agency] || self->revoked [agency]);
}

size_t
lot_enrolled_agencies (lot_enrolled_t *self)
{
    return self->enrolled;
}

size_t
lot_enrolled_keys (lot_enrolled_t *self)
{
    return zhashx_size (self->by_key);
}

bool
lot_enrolled_changed (lot_enrolled_t *self)
{
    return s_signature (self->dir) != self->signature;
}

int
lot_enrolled_reload (lot_enrolled_t **self_p, bool forced, const char *who)
{
    lot_enrolled_t *self = *self_p;
    if (!forced && !lot_enrolled_changed (self))
        return 0;
    char *error = NULL;
    lot_enrolled_t *fresh = lot_enrolled_new (self->dir, self->agencies, &error);
    if (!fresh) {
        //  The signature moves on: a broken file is said once, not every check
        self->signature = s_signature (self->dir);
        lot_log_error ("action: agencias_inscriptas | result: fail | actor: %s"
                       " | reason: %s | agencias: %zu (the keys read before stay)",
                       who, error ? error : "out of memory", self->enrolled);
        zstr_free (&error);
        return -1;
    }
    lot_log_info ("action: agencias_inscriptas | result: success | actor: %s | dir: %s"
                  " | agencias: %zu | claves: %zu", who, fresh->dir, fresh->enrolled,
                  lot_enrolled_keys (fresh));
    lot_enrolled_destroy (self_p);
    *self_p = fresh;
    return 1;
}
