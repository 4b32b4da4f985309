/*  lot_procstat - what a set of processes spent, CPU time and context
    switches, between two readings of /proc

    CPU time is utime + stime of /proc/PID/stat, which covers every thread
    of the process, exited ones too. Context switches are counted per
    thread only (/proc/PID/status has the main thread's), so every
    /proc/PID/task/TID/status is summed: a thread that ends between the
    readings takes its switches with it (a draw's reader threads: a few
    dozen).
*/
#include "lot_procstat.h"
#include "lot_fail.h"

#include <czmq.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROCESSES_MAX 64

struct _lot_procstat_t {
    pid_t pid [PROCESSES_MAX];
    size_t count;
    size_t readings;
    uint64_t ticks [2];             //  At the first reading, at the last
    uint64_t switches [2];
    uint64_t voluntary [2];
};

lot_procstat_t *
lot_procstat_new (const char *pids)
{
    lot_procstat_t *self = calloc (1, sizeof *self);
    assert (self);
    const char *next = pids;
    while (*next && self->count < PROCESSES_MAX) {
        char *end;
        long pid = strtol (next, &end, 10);
        if (end == next || pid <= 0 || (*end && *end != ','))
            break;
        self->pid [self->count++] = (pid_t) pid;
        next = *end ? end + 1 : end;
    }
    if (*next || self->count == 0)
        lot_procstat_destroy (&self);
    return self;
}

void
lot_procstat_destroy (lot_procstat_t **self_p)
{
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

//  utime + stime, in clock ticks; the fields after the name, which may
//  hold spaces and parentheses, so it is read from its last ')'.
static int
s_ticks (pid_t pid, uint64_t *ticks)
{
    char path [64], line [1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    char *name_end = file && fgets (line, sizeof line, file) ? strrchr (line, ')') : NULL;
    unsigned long long user, system;
    int rc = name_end && sscanf (name_end + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u"
                                 " %llu %llu", &user, &system) == 2 ? 0 : -1;
    if (file)
        fclose (file);
    if (rc == 0)
        *ticks += user + system;
    return rc;
}

//  Adds the voluntary and involuntary switches of one thread's status,
//  and the voluntary ones alone.
static void
s_thread_switches (const char *path, uint64_t *switches, uint64_t *voluntary)
{
    FILE *file = fopen (path, "r");
    char line [256];
    unsigned long long count;
    while (file && fgets (line, sizeof line, file))
        if (sscanf (line, "voluntary_ctxt_switches: %llu", &count) == 1) {
            *switches += count;
            *voluntary += count;
        }
        else
        if (sscanf (line, "nonvoluntary_ctxt_switches: %llu", &count) == 1)
            *switches += count;
    if (file)
        fclose (file);
}

static int
s_switches (pid_t pid, uint64_t *switches, uint64_t *voluntary)
{
    char path [64];
    snprintf (path, sizeof path, "/proc/%d/task", (int) pid);
    DIR *tasks = opendir (path);
    if (!tasks)
        return -1;
    struct dirent *task;
    while ((task = readdir (tasks)))
        if (*task->d_name != '.') {
            char *status = zsys_sprintf ("%s/%s/status", path, task->d_name);
            s_thread_switches (status, switches, voluntary);
            zstr_free (&status);
        }
    closedir (tasks);
    return 0;
}

int
lot_procstat_read (lot_procstat_t *self)
{
    uint64_t ticks = 0, switches = 0, voluntary = 0;
    for (size_t i = 0; i < self->count; i++)
        if (s_ticks (self->pid [i], &ticks)
        ||  s_switches (self->pid [i], &switches, &voluntary))
            return lot_fail (0, "process %d is gone, or /proc unreadable", (int) self->pid [i]);
    size_t at = self->readings++ ? 1 : 0;
    self->ticks [at] = ticks;
    self->switches [at] = switches;
    self->voluntary [at] = voluntary;
    return 0;
}

//  Last less first of a count, 0 before two readings or when threads
//  that ended took more than the others added.
static uint64_t
s_difference (lot_procstat_t *self, const uint64_t *count)
{
    return self->readings < 2 || count [1] < count [0] ? 0 : count [1] - count [0];
}

double
lot_procstat_cpu_seconds (lot_procstat_t *self)
{
    return (double) s_difference (self, self->ticks) / (double) sysconf (_SC_CLK_TCK);
}

uint64_t
lot_procstat_switches (lot_procstat_t *self)
{
    return s_difference (self, self->switches);
}

uint64_t
lot_procstat_voluntary (lot_procstat_t *self)
{
    return s_difference (self, self->voluntary);
}
