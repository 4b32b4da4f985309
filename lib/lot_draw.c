/*  lot_draw - reads the bets file back and finds each agency's winners  */
#include "lot_draw.h"
#include "lot_bet.h"

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define BLOCK (4 << 20)         //  Bytes read at a time
#define PART_MIN (32 << 20)     //  A smaller file is read in one part

typedef struct {
    char *data;
    size_t size;
    size_t capacity;
} s_text_t;

struct _lot_draw_t {
    long agencies;
    s_text_t *documents;        //  By agency
    size_t bets;
    size_t winners;
    size_t skipped;
    size_t skips [LOT_DRAW_SKIPS_KEPT];
    size_t lines;               //  Lines scanned so far
};

//  A byte range of the file, whole lines, read by one thread
typedef struct {
    lot_draw_t *draw;
    int fd;
    off_t from, to;
    int error;                  //  errno of a failed read, or 0
    pthread_t thread;
    bool started;               //  thread runs it
} s_part_t;

lot_draw_t *
lot_draw_new (long agencies)
{
    lot_draw_t *self = calloc (1, sizeof *self);
    if (self)
        self->documents = calloc ((size_t) agencies + 1, sizeof *self->documents);
    if (!self || !self->documents) {
        free (self);
        return NULL;
    }
    self->agencies = agencies;
    return self;
}

void
lot_draw_destroy (lot_draw_t **self_p)
{
    if (*self_p) {
        lot_draw_t *self = *self_p;
        for (long agency = 0; agency <= self->agencies; agency++)
            free (self->documents [agency].data);
        free (self->documents);
        free (self);
        *self_p = NULL;
    }
}

static int
s_text_append (s_text_t *text, const char *data, size_t size)
{
    if (size == 0)
        return 0;               //  An empty text may have no buffer yet
    if (text->size + size > text->capacity) {
        size_t capacity = (text->size + size) * 2;
        char *grown = realloc (text->data, capacity);
        if (!grown)
            return -1;
        text->data = grown;
        text->capacity = capacity;
    }
    memcpy (text->data + text->size, data, size);
    text->size += size;
    return 0;
}

static bool
s_digit (char c)
{
    return c >= '0' && c <= '9';
}

//  Walks back over the digits before *end (at most max_digits) and the
//  comma before them; returns their value, or -1 when there are none or
//  no comma.
static int64_t
s_number_before (const char *start, const char **end, int max_digits)
{
    const char *p = *end;
    int64_t value = 0, scale = 1;
    while (p > start && s_digit (p [-1]) && *end - p < max_digits) {
        value += (p [-1] - '0') * scale;
        scale *= 10;
        p--;
    }
    if (p == *end || p == start || p [-1] != ',')
        return -1;
    *end = p - 1;
    return value;
}

//  One line, without its line end: 0 when it is a bet of this draw. Only
//  what the draw uses is checked, in one pass and no calls: the scan is
//  the draw's cost.
static int
s_draw_line (lot_draw_t *self, const char *line, size_t size)
{
    const char *end = line + size;
    const char *document_end = end;
    int64_t number = s_number_before (line, &document_end, LOT_DOCUMENT_MAX);
    //  The birthdate, whatever it holds, back to its comma
    while (number >= 0 && document_end > line && document_end [-1] != ',')
        document_end--;
    const char *names_end = --document_end;
    int64_t document = number >= 0 && document_end > line
                     ? s_number_before (line, &names_end, LOT_DOCUMENT_MAX) : -1;
    if (number < 0 || number > LOT_NUMBER_MAX || document < 0)
        return -1;
    //  The agency, canonical, then two names: one comma at least
    int64_t agency = 0;
    const char *p = line;
    while (p < names_end && s_digit (*p) && agency <= self->agencies)
        agency = agency * 10 + (*p++ - '0');
    if (p == line || *line == '0' || agency > self->agencies || p >= names_end
    ||  *p != ',' || !memchr (p + 1, ',', (size_t) (names_end - p - 1)))
        return -1;
    self->bets++;
    if (number == LOT_WINNING_NUMBER) {
        s_text_t *text = &self->documents [agency];
        if (s_text_append (text, names_end + 1, (size_t) (document_end - names_end - 1))
        ||  s_text_append (text, "\n", 1))
            return -1;
        self->winners++;
    }
    return 0;
}

void
lot_draw_scan (lot_draw_t *self, const char *data, size_t size)
{
    const char *end = data + size;
    while (data < end) {
        const char *newline = memchr (data, '\n', (size_t) (end - data));
        const char *stop = newline ? newline : end;
        size_t length = (size_t) (stop - data);
        if (length && data [length - 1] == '\r')
            length--;
        self->lines++;
        //  A blank line is no bet, and no harm either
        if (length && s_draw_line (self, data, length)
        &&  self->skipped++ < LOT_DRAW_SKIPS_KEPT)
            self->skips [self->skipped - 1] = self->lines;
        data = newline ? newline + 1 : end;
    }
}

//  Reads and scans [from, to) in blocks, carrying a line cut by a block's
//  end to the next.
static void *
s_part_read (void *arg)
{
    s_part_t *part = arg;
    char *block = malloc (BLOCK);
    size_t held = 0;
    off_t at = part->from;
    part->error = block ? 0 : ENOMEM;
    while (!part->error) {
        size_t want = BLOCK - held;
        if ((off_t) want > part->to - at)
            want = (size_t) (part->to - at);
        ssize_t got = want ? pread (part->fd, block + held, want, at) : 0;
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got < 0)
                part->error = errno;
            else
                lot_draw_scan (part->draw, block, held);
            break;
        }
        at += got;
        size_t size = held + (size_t) got;
        const char *last = memrchr (block, '\n', size);
        //  A line longer than a block is no bet: it is scanned in pieces,
        //  each of which is skipped
        size_t whole = last ? (size_t) (last - block) + 1 : size == BLOCK ? size : 0;
        lot_draw_scan (part->draw, block, whole);
        held = size - whole;
        memmove (block, block + whole, held);
    }
    free (block);
    return NULL;
}

//  Where the line that holds byte at ends: the next part's start.
static off_t
s_line_end (int fd, off_t at, off_t size)
{
    char window [4096];
    while (at < size) {
        ssize_t got = pread (fd, window, sizeof window, at);
        if (got <= 0)
            return size;
        const char *newline = memchr (window, '\n', (size_t) got);
        if (newline)
            return at + (newline - window) + 1;
        at += got;
    }
    return size;
}

//  Adds a part's findings after the parts before it.
static int
s_draw_merge (lot_draw_t *self, lot_draw_t *part)
{
    for (size_t i = 0; i < part->skipped && i < LOT_DRAW_SKIPS_KEPT; i++)
        if (self->skipped + i < LOT_DRAW_SKIPS_KEPT)
            self->skips [self->skipped + i] = self->lines + part->skips [i];
    self->bets += part->bets;
    self->winners += part->winners;
    self->skipped += part->skipped;
    self->lines += part->lines;
    for (long agency = 1; agency <= self->agencies; agency++) {
        s_text_t *text = &part->documents [agency];
        if (text->size && s_text_append (&self->documents [agency], text->data, text->size))
            return -1;
    }
    return 0;
}

int
lot_draw_read (lot_draw_t *self, const char *path)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    struct stat status;
    if (fd < 0 || fstat (fd, &status)) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    int parts = status.st_size < PART_MIN || cores < 2 ? 1
              : cores < LOT_DRAW_PARTS_MAX ? (int) cores : LOT_DRAW_PARTS_MAX;
    s_part_t part [LOT_DRAW_PARTS_MAX] = { { 0 } };
    off_t from = 0;
    for (int i = 0; i < parts; i++) {
        off_t to = i == parts - 1 ? status.st_size
                 : s_line_end (fd, status.st_size / parts * (i + 1), status.st_size);
        part [i] = (s_part_t) { lot_draw_new (self->agencies), fd, from, to, 0, 0, false };
        from = to;
        if (!part [i].draw)
            part [i].error = ENOMEM;
        else
        if (i > 0 && pthread_create (&part [i].thread, NULL, s_part_read, &part [i]))
            part [i].error = EAGAIN;
        else
        if (i > 0)
            part [i].started = true;
    }
    if (part [0].draw)
        s_part_read (&part [0]);
    int error = 0;
    for (int i = 0; i < parts; i++) {
        if (part [i].started)
            pthread_join (part [i].thread, NULL);
        error = error ? error : part [i].error;
        if (!error && s_draw_merge (self, part [i].draw))
            error = ENOMEM;
        lot_draw_destroy (&part [i].draw);
    }
    close (fd);
    errno = error;
    return error ? -1 : 0;
}

size_t
lot_draw_bets (lot_draw_t *self)
{
    return self->bets;
}

size_t
lot_draw_winners (lot_draw_t *self)
{
    return self->winners;
}

size_t
lot_draw_skipped (lot_draw_t *self)
{
    return self->skipped;
}

const size_t *
lot_draw_skipped_lines (lot_draw_t *self, size_t *count)
{
    *count = self->skipped < LOT_DRAW_SKIPS_KEPT ? self->skipped : LOT_DRAW_SKIPS_KEPT;
    return self->skips;
}

const char *
lot_draw_documents (lot_draw_t *self, long agency, size_t *size)
{
    s_text_t *text = &self->documents [agency];
    *size = text->size;
    return text->data ? text->data : "";
}
