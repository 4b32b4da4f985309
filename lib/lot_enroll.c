/*  lot_enroll - enrolls, rotates and revokes agency keys: the operator's side of lot_enrolled  */
#include "lot_enroll.h"
#include "lot_curve.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Writes a certificate's public or secret file under a temporary name
//  starting with a dot (which readers skip), then renames it to path.
static int
s_save (zcert_t *cert, const char *dir, const char *name, bool secret, char **error)
{
    char *path = zsys_sprintf ("%s/%s", dir, name);
    char *temporary = zsys_sprintf ("%s/.%s.new", dir, name);
    int rc = secret ? zcert_save_secret (cert, temporary) : zcert_save_public (cert, temporary);
    if (rc == 0 && secret)
        rc = chmod (temporary, 0600);
    if (rc == 0)
        rc = rename (temporary, path);
    if (rc) {
        *error = zsys_sprintf ("cannot write %s: %s", path, strerror (errno));
        unlink (temporary);
    }
    zstr_free (&path);
    zstr_free (&temporary);
    return rc ? -1 : 0;
}

//  The front-end's key: made the first time.
static zcert_t *
s_server_cert (const char *dir, char **error)
{
    char *server = zsys_sprintf ("%s/server", dir);
    char *secret = zsys_sprintf ("%s/secret/agencies", server);
    zcert_t *cert = NULL;
    if (access (secret, F_OK) == 0 || lot_curve_make (server, "agencies", error) == 0)
        cert = lot_curve_load_secret (secret, error);
    zstr_free (&server);
    zstr_free (&secret);
    return cert;
}

int
lot_enroll (const char *dir, unsigned agency, lot_enroll_t what, char **error)
{
    *error = NULL;
    if (agency == 0) {
        *error = strdup ("agencies are numbered from 1");
        return -1;
    }
    char *enrolled = zsys_sprintf ("%s/server/enrolled", dir);
    char *own = zsys_sprintf ("%s/agency-%u", dir, agency);
    char *name = zsys_sprintf ("agency-%u.pub", agency);
    char *public = zsys_sprintf ("%s/%s", enrolled, name);
    bool exists = access (public, F_OK) == 0;
    zcert_t *server = NULL, *cert = NULL;
    int rc = -1;
    char *marker = zsys_sprintf ("%s/agency-%u.revoked", enrolled, agency);
    if (what == LOT_ENROLL_REVOKE && !exists)
        *error = zsys_sprintf ("agency %u is not enrolled (no %s)", agency, public);
    else
    if (what == LOT_ENROLL_REVOKE) {
        //  The mark first: a revoked agency must never look like one that
        //  has no key (per-agency lets those in without one)
        FILE *file = fopen (marker, "w");
        if (!file || fclose (file))
            *error = zsys_sprintf ("cannot write %s: %s", marker, strerror (errno));
        else
        if (unlink (public) == 0)
            rc = 0;
        else
            *error = zsys_sprintf ("cannot remove %s: %s", public, strerror (errno));
    }
    else
    if (what == LOT_ENROLL_NEW && exists)
        *error = zsys_sprintf ("agency %u is enrolled already (%s): rotate its key instead",
                               agency, public);
    else
    if (what == LOT_ENROLL_ROTATE && !exists)
        *error = zsys_sprintf ("agency %u is not enrolled (no %s)", agency, public);
    else
    if (lot_curve_mkdir (dir, 0755, error) == 0
    &&  (server = s_server_cert (dir, error))
    &&  lot_curve_mkdir (enrolled, 0755, error) == 0 && lot_curve_mkdir (own, 0700, error) == 0) {
        cert = zcert_new ();
        zcert_set_meta (cert, "name", "agency-%u", agency);
        zcert_set_meta (cert, "agency", "%u", agency);
        //  The agency's own first: an enrolled key whose secret is lost
        //  would lock the agency out
        if (s_save (cert, own, "agency_secret", true, error) == 0
        &&  s_save (cert, own, "agency", false, error) == 0
        &&  s_save (server, own, "server.pub", false, error) == 0
        &&  s_save (cert, enrolled, name, false, error) == 0)
            rc = 0;
        if (rc == 0 && unlink (marker) && errno != ENOENT) {
            *error = zsys_sprintf ("cannot remove %s: %s", marker, strerror (errno));
            rc = -1;
        }
    }
    zcert_destroy (&cert);
    zcert_destroy (&server);
    zstr_free (&enrolled);
    zstr_free (&own);
    zstr_free (&name);
    zstr_free (&public);
    zstr_free (&marker);
    return rc;
}
