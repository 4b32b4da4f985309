/*  lot_recovery - opens a store's two files and cuts them back to what is durable  */
#include "lot_recovery.h"
#include "lot_adopt.h"
#include "lot_file.h"
#include "lot_journal.h"
#include "lot_log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

//  A record read back, with where it lies in both files
typedef struct {
    lot_journal_record_t line;
    uint64_t start;                 //  Its lines in the bets file, up to line.end
    uint64_t next;                  //  Journal offset after its newline
} s_record_t;

//  One opening: what it was given and what it finds, copied out to the
//  caller's lot_recovery_t at the end, whatever happened
typedef struct {
    const char *bets_path;
    const char *journal_path;
    long agencies;
    bool fsync;
    int bets_fd;
    int journal_fd;
    int same_fs;
    uint64_t bets_size;
    uint64_t journal_size;
    uint64_t group;
    uint32_t *stored;               //  By agency
    bool *finished;
    lot_recovery_lines_fn *lines;   //  Told where each record's lines lie
    void *arg;
} self_t;

static void
s_error (char **error, const char *format, ...)
{
    if (!error)
        return;
    va_list args;
    va_start (args, format);
    if (vasprintf (error, format, args) < 0)
        *error = NULL;
    va_end (args);
}

static int
s_self_sync (self_t *self, int fd)
{
    return self->fsync ? fdatasync (fd) : 0;
}

static int
s_self_sync_both (self_t *self)
{
    return self->fsync ? lot_file_sync_pair (self->bets_fd, self->journal_fd,
                                             &self->same_fs) : 0;
}

static int
s_self_sync_directory (self_t *self, const char *path)
{
    return self->fsync ? lot_file_sync_directory (path) : 0;
}

//  Cuts a file to size and logs what went, when anything did.
static int
s_cut (int fd, const char *action, const char *path, uint64_t size, uint64_t to)
{
    if (size == to)
        return 0;
    if (ftruncate (fd, (off_t) to))
        return -1;
    lot_log_warning ("action: %s | result: success | path: %s | removed_bytes: %" PRIu64,
                     action, path, size - to);
    return 0;
}

//  Without a journal the bets file is whole lines of no agency: a crash
//  in the middle of a write may have left a partial last line, never
//  confirmed to anyone, which goes. Then the journal starts at its end.
static int
s_self_begin_journal (self_t *self, char **error)
{
    char block [4096];
    uint64_t end = self->bets_size, keep = 0;
    while (end > 0 && keep == 0) {
        uint64_t start = end > sizeof block ? end - sizeof block : 0;
        if (lot_file_read_at (self->bets_fd, block, (size_t) (end - start), start)) {
            s_error (error, "cannot read the bets file %s: %s", self->bets_path,
                     strerror (errno));
            return -1;
        }
        for (size_t i = (size_t) (end - start); i > 0 && keep == 0; i--)
            if (block [i - 1] == '\n')
                keep = start + i;
        end = start;
    }
    if (s_cut (self->bets_fd, "bets_file_repair", self->bets_path, self->bets_size, keep)
    ||  s_self_sync (self, self->bets_fd)) {
        s_error (error, "cannot cut the bets file %s: %s", self->bets_path,
                 strerror (errno));
        return -1;
    }
    self->bets_size = keep;
    if (keep > 0)
        lot_log_warning ("action: journal | result: in_progress | path: %s"
                         " | reason: no journal beside a bets file of %" PRIu64
                         " bytes, whose lines count for no agency",
                         self->journal_path, keep);

    //  Written whole under another name, so a journal never holds half a
    //  header
    char header [LOT_JOURNAL_HEADER_MAX];
    size_t size = lot_journal_header_format (keep, header);
    char *temp = NULL;
    if (asprintf (&temp, "%s.tmp", self->journal_path) < 0)
        temp = NULL;
    assert (temp);
    int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    struct iovec iov = { header, size };
    int rc = fd < 0 || lot_file_write_all (fd, &iov, 1) || s_self_sync (self, fd)
           ? -1 : 0;
    if (fd >= 0 && close (fd))
        rc = -1;
    if (rc == 0)
        rc = rename (temp, self->journal_path);
    if (rc == 0)
        rc = s_self_sync_directory (self, self->journal_path);
    if (rc == 0) {
        self->journal_fd = open (self->journal_path, O_RDWR | O_APPEND | O_CLOEXEC);
        rc = self->journal_fd < 0 ? -1 : 0;
    }
    if (rc)
        s_error (error, "cannot create the journal %s: %s", self->journal_path,
                 strerror (errno));
    free (temp);
    self->journal_size = size;
    return rc;
}

//  Reads the valid records of the journal (text, size bytes), longest
//  prefix first, then cut at the first record of the last group whose
//  lines do not match. Returns how many records are valid, or -1.
static ssize_t
s_self_valid_records (self_t *self, const char *text, size_t size,
                      size_t header, uint64_t base, s_record_t *records, char **error)
{
    size_t count = 0;
    uint64_t end = base, group = 1;
    for (size_t at = header; at < size; count++) {
        const char *newline = memchr (text + at, '\n', size - at);
        s_record_t *record = &records [count];
        if (!newline
        ||  lot_journal_record_parse (text + at, (size_t) (newline - text) - at,
                                      &record->line)
        ||  record->line.end < end || record->line.end > self->bets_size
        ||  record->line.group < group)
            break;
        record->start = end;
        record->next = (uint64_t) (newline - text) + 1;
        end = record->line.end;
        group = record->line.group;
        at = (size_t) record->next;
    }
    //  Earlier groups were synced before the last one was written; of the
    //  last, a power cut may have kept any subset of pages
    size_t first = count;
    while (first > 0 && records [first - 1].line.group == group)
        first--;
    for (size_t i = first; i < count; i++) {
        uint32_t crc;
        if (lot_file_crc (self->bets_fd, records [i].start, records [i].line.end, &crc)) {
            s_error (error, "cannot read the bets file %s: %s", self->bets_path,
                     strerror (errno));
            return -1;
        }
        if (crc != records [i].line.lines_crc)
            return (ssize_t) i;
    }
    return (ssize_t) count;
}

//  Applies the records to the state. A record that does not follow the
//  ones before it was never written by a commit: refuse it.
static int
s_self_apply (self_t *self, const s_record_t *records, size_t count, char **error)
{
    size_t foreign = 0;
    for (size_t i = 0; i < count; i++) {
        const lot_journal_record_t *record = &records [i].line;
        if (record->agency > self->agencies) {
            foreign++;
            continue;
        }
        uint32_t agency = record->agency;
        if (record->position != self->stored [agency] || self->finished [agency]
        ||  record->count > UINT32_MAX - record->position) {
            s_error (error, "journal %s: record %zu (agency %" PRIu32 ", position %"
                     PRIu32 ") does not follow the ones before it", self->journal_path,
                     i + 1, agency, record->position);
            return -1;
        }
        self->stored [agency] += record->count;
        self->finished [agency] = record->last;
        if (self->lines)
            self->lines (self->arg, agency, records [i].start,
                         record->end - records [i].start);
    }
    if (foreign)
        lot_log_warning ("action: journal | result: in_progress | path: %s | reason: %zu"
                         " chunks of agencies above %ld count for no agency",
                         self->journal_path, foreign, self->agencies);
    return 0;
}

//  Reads the whole journal into text and its header: where it ends and
//  the bets-file size it starts from. A header that is unreadable, or
//  names more than the bets file holds, is for the operator to look at.
static int
s_self_read_header (self_t *self, char *text, size_t *header, uint64_t *base,
                    char **error)
{
    if (lot_file_read_at (self->journal_fd, text, self->journal_size, 0)) {
        s_error (error, "cannot read the journal %s: %s", self->journal_path,
                 strerror (errno));
        return -1;
    }
    const char *newline = memchr (text, '\n', self->journal_size);
    if (!newline || lot_journal_header_parse (text, (size_t) (newline - text), base)) {
        s_error (error, "journal %s: its header is unreadable", self->journal_path);
        return -1;
    }
    if (*base > self->bets_size) {
        s_error (error, "journal %s: it starts at byte %" PRIu64 " of the bets file %s,"
                 " which holds %" PRIu64, self->journal_path, *base, self->bets_path,
                 self->bets_size);
        return -1;
    }
    *header = (size_t) (newline - text) + 1;
    return 0;
}

//  Adopts the bet lines past from (lot_adopt.h), their records appended
//  to the journal in a group of their own. Returns the lines adopted and
//  sets *to where they end, or -1.
static int64_t
s_self_adopt (self_t *self, uint64_t from, uint64_t *to, char **error)
{
    lot_adopt_t tail = {
        .bets_fd = self->bets_fd, .bets_path = self->bets_path, .from = from,
        .size = self->bets_size, .agencies = self->agencies, .group = self->group + 1,
        .stored = self->stored, .finished = self->finished,
        .lines = self->lines, .arg = self->arg
    };
    char *records = NULL;
    size_t size = 0;
    int64_t adopted = lot_adopt (&tail, to, &records, &size, error);
    if (adopted > 0) {
        struct iovec iov = { records, size };
        if (lot_file_write_all (self->journal_fd, &iov, 1)) {
            s_error (error, "cannot write the journal %s: %s", self->journal_path,
                     strerror (errno));
            adopted = -1;
        }
        else {
            self->journal_size += size;
            self->group++;
        }
    }
    free (records);
    return adopted;
}

static int
s_self_recover (self_t *self, char **error)
{
    char *text = malloc (self->journal_size);
    //  No record is shorter than 30 bytes
    s_record_t *records = malloc ((self->journal_size / 30 + 1) * sizeof *records);
    assert (text && records);
    size_t header = 0;
    uint64_t base = 0;
    ssize_t count = -1;
    if (s_self_read_header (self, text, &header, &base, error) == 0)
        count = s_self_valid_records (self, text, self->journal_size, header, base,
                                      records, error);
    free (text);
    if (count < 0 || s_self_apply (self, records, (size_t) count, error)) {
        free (records);
        return -1;
    }
    const s_record_t *last = count ? &records [count - 1] : NULL;
    uint64_t journal_keep = last ? last->next : header;
    uint64_t bets_keep = last ? last->line.end : base;
    self->group = last ? last->line.group : 0;
    free (records);
    //  Synced even when nothing is cut: a process killed before its sync
    //  left the last group in the page cache only, and the next group
    //  must not be written before it is durable
    if (s_cut (self->journal_fd, "journal_repair", self->journal_path,
               self->journal_size, journal_keep)) {
        s_error (error, "cannot cut back the journal %s: %s", self->journal_path,
                 strerror (errno));
        return -1;
    }
    self->journal_size = journal_keep;
    //  Lines past the last record may be confirmed ones whose records a
    //  power cut lost: kept, with records of their own (lot_store.h)
    int64_t adopted = s_self_adopt (self, bets_keep, &bets_keep, error);
    if (adopted < 0)
        return -1;
    if (s_cut (self->bets_fd, "bets_file_repair", self->bets_path,
               self->bets_size, bets_keep)
    ||  s_self_sync_both (self)) {
        s_error (error, "cannot cut back the bets file %s and the journal %s: %s",
                 self->bets_path, self->journal_path, strerror (errno));
        return -1;
    }
    self->bets_size = bets_keep;
    if (adopted > 0)
        lot_log_warning ("action: journal_rebuild | result: success | path: %s"
                         " | adopted_lines: %" PRId64, self->journal_path, adopted);
    return 0;
}

//  Opens the bets file, creating it (and making its name durable) when
//  absent.
static int
s_self_open_bets (self_t *self, char **error)
{
    self->bets_fd = open (self->bets_path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (self->bets_fd < 0 && errno == ENOENT) {
        self->bets_fd = open (self->bets_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
                              0644);
        if (self->bets_fd >= 0 && s_self_sync_directory (self, self->bets_path)) {
            close (self->bets_fd);
            self->bets_fd = -1;
        }
    }
    struct stat info;
    if (self->bets_fd < 0 || fstat (self->bets_fd, &info)) {
        s_error (error, "cannot open the bets file %s: %s", self->bets_path,
                 strerror (errno));
        return -1;
    }
    self->bets_size = (uint64_t) info.st_size;
    return 0;
}

//  Opens the journal and recovers from it; begins one when it is absent
//  or empty (created but never written).
static int
s_self_open_journal (self_t *self, char **error)
{
    self->journal_fd = open (self->journal_path, O_RDWR | O_APPEND | O_CLOEXEC);
    struct stat info = { 0 };
    if ((self->journal_fd < 0 && errno != ENOENT)
    ||  (self->journal_fd >= 0 && fstat (self->journal_fd, &info))) {
        s_error (error, "cannot open the journal %s: %s", self->journal_path,
                 strerror (errno));
        return -1;
    }
    if (info.st_size > 0) {
        self->journal_size = (uint64_t) info.st_size;
        return s_self_recover (self, error);
    }
    if (self->journal_fd >= 0)
        close (self->journal_fd);
    self->journal_fd = -1;
    return s_self_begin_journal (self, error);
}

//  --------------------------------------------------------------------------

int
lot_recovery_open (lot_recovery_t *files, const char *bets_path,
                   const char *journal_path, long agencies, bool fsync,
                   uint32_t *stored, bool *finished, lot_recovery_lines_fn *lines,
                   void *arg, char **error)
{
    assert (files && bets_path && journal_path && stored && finished);
    self_t self = {
        .bets_path = bets_path, .journal_path = journal_path, .agencies = agencies,
        .fsync = fsync, .bets_fd = -1, .journal_fd = -1, .same_fs = -1,
        .stored = stored, .finished = finished, .lines = lines, .arg = arg
    };
    int rc = s_self_open_bets (&self, error) || s_self_open_journal (&self, error)
           ? -1 : 0;
    *files = (lot_recovery_t) {
        .bets_fd = self.bets_fd, .journal_fd = self.journal_fd, .same_fs = self.same_fs,
        .bets_size = self.bets_size, .journal_size = self.journal_size,
        .group = self.group
    };
    return rc;
}
