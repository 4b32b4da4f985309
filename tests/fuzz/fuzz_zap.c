/*  fuzz_zap - the ZAP handler's decision on any request

    libzmq sends the handler what a CURVE client offered; the agencies'
    port takes any client. Input: a frame count, then each frame as a
    length byte and its bytes; a last byte, when the key frame is 32
    bytes, may put an enrolled agency's key or an actor's there, so the
    admitting paths are reached. What must hold: six reply frames, the
    request id echoed; "200" only for a well-formed CURVE request whose key
    is enrolled (domain "agencies", User-Id its agency) or an actor's
    (any other domain, no User-Id); else "400" and no User-Id.
*/
#include "fuzz.h"
#include "lot_zap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_AGENCIES 3

static lot_enrolled_t *s_enrolled;
static zcertstore_t *s_actors;
static byte s_keys [S_AGENCIES + 1][32];        //  [0] the actor's

//  Three enrolled agencies and one actor, in a directory of their own.
static void
s_setup (void)
{
    char dir [] = "/tmp/fuzz-zap-XXXXXX";
    assert (mkdtemp (dir));
    s_actors = zcertstore_new (NULL);
    for (unsigned agency = 0; agency <= S_AGENCIES; agency++) {
        zcert_t *cert = zcert_new ();
        memcpy (s_keys [agency], zcert_public_key (cert), 32);
        if (agency == 0) {
            zcertstore_insert (s_actors, &cert);
            continue;
        }
        zcert_set_meta (cert, "agency", "%u", agency);
        char *path = zsys_sprintf ("%s/agency-%u.pub", dir, agency);
        assert (zcert_save_public (cert, path) == 0);
        zstr_free (&path);
        zcert_destroy (&cert);
    }
    char *error = NULL;
    s_enrolled = lot_enrolled_new (dir, S_AGENCIES, &error);
    assert (s_enrolled && !error);
    char *command = zsys_sprintf ("rm -r %s", dir);
    assert (system (command) == 0);
    zstr_free (&command);
}

static bool
s_is (zframe_t *frame, const char *text)
{
    return frame && zframe_size (frame) == strlen (text)
        && memcmp (zframe_data (frame), text, strlen (text)) == 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_enrolled)
        s_setup ();
    if (size < 1)
        return 0;
    zmsg_t *request = zmsg_new ();
    size_t count = data [0] % 9, at = 1;
    for (size_t i = 0; i < count && at < size; i++) {
        size_t length = data [at++];
        length = length < size - at ? length : size - at;
        zmsg_addmem (request, data + at, length);
        at += length;
    }
    zframe_t *key = zmsg_last (request);
    if (zmsg_size (request) == 7 && zframe_size (key) == 32 && at < size)
        memcpy (zframe_data (key), s_keys [data [at] % (S_AGENCIES + 1)], 32);
    zmsg_t *reply = lot_zap_answer (request, s_actors, s_enrolled);

    assert (zmsg_size (reply) == 6);
    zframe_t *frame = zmsg_first (reply);
    assert (s_is (frame, "1.0"));
    zframe_t *id = zmsg_next (reply);
    zframe_t *asked = zmsg_first (request) ? zmsg_next (request) : NULL;
    assert (asked ? zframe_eq (id, asked) : zframe_size (id) == 0);
    zframe_t *status = zmsg_next (reply);
    zmsg_next (reply);
    zframe_t *user = zmsg_next (reply);
    bool admitted = s_is (status, "200");
    assert (admitted || s_is (status, "400"));
    if (admitted) {
        zframe_t *frames [7] = { zmsg_first (request) };
        for (size_t i = 1; i < 7; i++)
            frames [i] = zmsg_next (request);
        assert (zmsg_size (request) == 7 && s_is (frames [0], "1.0")
                && s_is (frames [5], "CURVE") && zframe_size (frames [6]) == 32);
        unsigned agency = lot_enrolled_agency (s_enrolled, zframe_data (frames [6]));
        if (s_is (frames [2], LOT_ZAP_AGENCIES)) {
            char expected [16];
            snprintf (expected, sizeof expected, "%u", agency);
            assert (agency >= 1 && agency <= S_AGENCIES && s_is (user, expected));
        }
        else
            assert (memcmp (zframe_data (frames [6]), s_keys [0], 32) == 0
                    && zframe_size (user) == 0);
    }
    else
        assert (zframe_size (user) == 0);
    zmsg_destroy (&reply);
    zmsg_destroy (&request);
    return 0;
}
