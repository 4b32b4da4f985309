/*  lot_enroll - enrolls, rotates and revokes agency keys: the operator's side of lot_enrolled

    bin/lottery-enroll DIR lays out one directory per party, each to be
    given to it alone:

        DIR/server/secret/agencies_secret   the front-end's own: AGENCY_CERT
        DIR/server/enrolled/agency-N.pub    the agencies it lets in: AGENCY_KEYS
        DIR/server/enrolled/agency-N.revoked  an agency whose key was revoked
        DIR/agency-N/agency_secret          agency N's own: its auth.cert
        DIR/agency-N/server.pub             the front-end's public key, which
                                            agency N pins: its auth.server

    The front-end's key is made once. Enrolling makes agency N's key
    pair and its public certificate (agency = "N" in its metadata);
    rotating makes a new pair in place of the old one, which no new
    connection may use once the server has read the directory again;
    revoking removes the public certificate and leaves a mark
    (agency-N.revoked), so that the agency needs a key still: enrolling
    it again takes the mark away. Every file is written under
    a temporary name and renamed, so a server that reads the directory
    meanwhile sees the old file or the new one, never half of one.
*/
#ifndef LOT_ENROLL_H_INCLUDED
#define LOT_ENROLL_H_INCLUDED

#include <stdbool.h>

typedef enum {
    LOT_ENROLL_NEW,             //  An agency not enrolled yet
    LOT_ENROLL_ROTATE,          //  A new key for an enrolled agency
    LOT_ENROLL_REVOKE           //  No key for it any more
} lot_enroll_t;

//  Does what to agency in dir, making the front-end's key first if
//  there is none. Returns 0, or -1 with *error set (free it).
int lot_enroll (const char *dir, unsigned agency, lot_enroll_t what, char **error);

#endif
