/*  fuzz - what the libFuzzer targets in tests/fuzz share  */
#include "fuzz.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

//  Every target starts with an empty environment, as every setting has
//  an override there and none may come in from the shell that runs it,
//  and with stdout gone: a config loaded prints its line.
int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc, (void) argv;
    clearenv ();
    if (!freopen ("/dev/null", "w", stdout))
        abort ();
    return 0;
}

int
fuzz_wire (const uint8_t *input, size_t size, fuzz_wire_t *wire)
{
    if (size < FUZZ_HEADER)
        return -1;
    *wire = (fuzz_wire_t) { 64 + (size_t) input [0] * 64, input [1],
                            input + FUZZ_HEADER, size - FUZZ_HEADER };
    return 0;
}

const char *
fuzz_file (const uint8_t *data, size_t size)
{
    //  In memory: thousands of inputs a second would wear a disk
    static int fd = -1;
    static char path [64];
    if (fd < 0) {
        fd = memfd_create ("fuzz-input", 0);
        assert (fd >= 0);
        snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate (fd, 0) || pwrite (fd, data, size, 0) != (ssize_t) size)
        abort ();
    return path;
}

uint8_t *
fuzz_copy (const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc (size);
    assert (copy || !size);
    return size ? memcpy (copy, data, size) : copy;
}

lot_csv_t *
fuzz_csv (const void *data, size_t size)
{
    FILE *file = fmemopen ((void *) data, size, "rb");
    assert (file);
    lot_csv_t *csv = lot_csv_new_stream (file);
    assert (csv);
    return csv;
}
