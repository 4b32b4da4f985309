/*  testutil - helpers for tests that run the real programs  */
#include "testutil.h"

#include <czmq.h>
#include <arpa/inet.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

lot_span_t
tu_span (const char *text)
{
    return (lot_span_t) { text, strlen (text) };
}

void
tu_wire_byte (tu_wire_t *wire, unsigned value)
{
    assert_true (wire->size < sizeof wire->data);
    wire->data [wire->size++] = (uint8_t) value;
}

void
tu_wire_u16 (tu_wire_t *wire, unsigned value)
{
    tu_wire_byte (wire, (value >> 8) & 0xFF);
    tu_wire_byte (wire, value & 0xFF);
}

void
tu_wire_u32 (tu_wire_t *wire, uint32_t value)
{
    tu_wire_u16 (wire, value >> 16);
    tu_wire_u16 (wire, value & 0xFFFF);
}

void
tu_wire_bytes (tu_wire_t *wire, const void *data, size_t size)
{
    assert_true (size <= sizeof wire->data - wire->size);
    memcpy (wire->data + wire->size, data, size);
    wire->size += size;
}

void
tu_wire_digest (tu_wire_t *wire, const char *lines)
{
    uint8_t digest [32];
    assert_int_equal (crypto_generichash (digest, sizeof digest, (const uint8_t *) lines,
                                          strlen (lines), NULL, 0), 0);
    tu_wire_bytes (wire, digest, sizeof digest);
}

void
tu_wire_str (tu_wire_t *wire, const char *text)
{
    tu_wire_u16 (wire, (unsigned) strlen (text));
    tu_wire_bytes (wire, text, strlen (text));
}

void
tu_wire_chunk (tu_wire_t *wire, char tag, unsigned count, const char *agency)
{
    tu_wire_byte (wire, (uint8_t) tag);
    tu_wire_u16 (wire, count);
    tu_wire_str (wire, agency);
}

void
tu_wire_bet (tu_wire_t *wire, const char *const bet [5])
{
    for (int i = 0; i < 5; i++)
        tu_wire_str (wire, bet [i]);
}

void
tu_assert_bytes (const void *got, size_t got_size, const void *want, size_t want_size)
{
    const uint8_t *a = got, *b = want;
    size_t at = 0;
    while (at < got_size && at < want_size && a [at] == b [at])
        at++;
    if (at < got_size || at < want_size)
        fail_msg ("got %zu bytes, expected %zu; first difference at byte %zu"
                  " (got 0x%02x, expected 0x%02x)", got_size, want_size, at,
                  at < got_size ? a [at] : 0, at < want_size ? b [at] : 0);
}

void
tu_expect_bytes (int fd, const void *want, size_t size)
{
    uint8_t *got = malloc (size ? size : 1);
    assert_non_null (got);
    size_t read = tu_recv_exact (fd, got, size, 10000);
    tu_assert_bytes (got, read, want, size);
    free (got);
}

static char s_case [256];

void
tu_case (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (s_case, sizeof s_case, format, args);
    va_end (args);
}

void
tu_case_done (void)
{
    s_case [0] = 0;
}

int
tu_case_teardown (void **state)
{
    (void) state;
    if (*s_case)
        print_error ("[   CASE   ] %s\n", s_case);
    tu_case_done ();
    return 0;
}

static char s_home [4096];
static char *s_dir;

int
tu_dir_setup (void **state)
{
    (void) state;
    if (!*s_home && !getcwd (s_home, sizeof s_home))
        return -1;
    s_dir = tu_tempdir ("test");
    return s_dir && chdir (s_dir) == 0 ? 0 : -1;
}

int
tu_dir_teardown (void **state)
{
    (void) state;
    int rc = chdir (s_home);
    tu_remove_dir (s_dir);
    s_dir = NULL;
    return rc;
}

const char *
tu_dir (void)
{
    return s_dir;
}

const char *
tu_home (void)
{
    return s_home;
}

char *
tu_printf (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = NULL;
    if (vasprintf (&text, format, args) < 0)
        abort ();
    va_end (args);
    return text;
}

char *
tu_tempdir (const char *name)
{
    char *path = NULL;
    const char *tmp = getenv ("TMPDIR");
    if (asprintf (&path, "%s/lottery-test-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name) < 0)
        return NULL;
    if (!mkdtemp (path)) {
        free (path);
        return NULL;
    }
    return path;
}

static int
s_remove_entry (const char *path, const struct stat *info, int type, struct FTW *ftw)
{
    (void) info, (void) type, (void) ftw;
    return remove (path);
}

void
tu_remove_dir (char *dir)
{
    if (dir)
        nftw (dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free (dir);
}

int
tu_closed_port (int *fd)
{
    //  Not inherited: a spawned program holding it would keep a listener
    //  made of it alive after the test closed it
    *fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t size = sizeof addr;
    if (*fd < 0
    ||  bind (*fd, (struct sockaddr *) &addr, sizeof addr) != 0
    ||  getsockname (*fd, (struct sockaddr *) &addr, &size) != 0)
        return -1;
    return ntohs (addr.sin_port);
}

//  Every process spawned and not yet reaped
#define S_LIVE_MAX 256
static tu_proc_t *s_live [S_LIVE_MAX];

static void
s_live_forget (tu_proc_t *proc)
{
    for (size_t i = 0; i < S_LIVE_MAX; i++)
        if (s_live [i] == proc)
            s_live [i] = NULL;
}

tu_proc_t *
tu_spawn (const char *cwd, char *const argv [], char *const env [],
          const char *log_path)
{
    tu_proc_t *proc = calloc (1, sizeof *proc);
    proc->log_path = strdup (log_path);
    proc->status = -1;
    fflush (NULL);
    pid_t parent = getpid ();
    proc->pid = fork ();
    if (proc->pid == 0) {
        //  A test program that dies takes its children along
        if (prctl (PR_SET_PDEATHSIG, SIGKILL) || getppid () != parent)
            _exit (125);
        int fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int null = open ("/dev/null", O_RDONLY);
        if (fd < 0 || null < 0 || chdir (cwd))
            _exit (126);
        dup2 (null, 0);
        dup2 (fd, 1);
        dup2 (fd, 2);
        for (size_t i = 0; env && env [i]; i++)
            putenv (env [i]);
        execv (argv [0], argv);
        _exit (127);
    }
    for (size_t i = 0; i < S_LIVE_MAX; i++)
        if (!s_live [i]) {
            s_live [i] = proc;
            break;
        }
    return proc;
}

int
tu_kill_all (void **state)
{
    (void) state;
    for (size_t i = 0; i < S_LIVE_MAX; i++)
        if (s_live [i])
            tu_stop (s_live [i], SIGKILL, 5000);
    return 0;
}

//  A program that does not end in time is stuck somewhere: before it is
//  killed, every thread's stack goes to LOG.stacks, when gdb is there
//  (a few seconds), so that a hang seen once can be read afterwards.
static void
s_dump_stacks (tu_proc_t *proc)
{
    if (access ("/usr/bin/gdb", X_OK) || !proc->log_path)
        return;
    char *command = tu_printf ("timeout 30 /usr/bin/gdb -p %d -batch -nx"
                               " -ex 'thread apply all bt' > '%s.stacks' 2>&1",
                               (int) proc->pid, proc->log_path);
    if (system (command) == 0)
        fprintf (stderr, "stuck: pid %d's stacks are in %s.stacks\n",
                 (int) proc->pid, proc->log_path);
    free (command);
}

int
tu_wait (tu_proc_t *proc, int timeout_ms)
{
    if (proc->status >= 0)
        return proc->status;
    long long deadline = zclock_mono () + timeout_ms;
    while (true) {
        int status;
        pid_t got = waitpid (proc->pid, &status, WNOHANG);
        if (got == proc->pid) {
            proc->status = WIFEXITED (status) ? WEXITSTATUS (status)
                                              : 128 + WTERMSIG (status);
            s_live_forget (proc);
            return proc->status;
        }
        if (zclock_mono () >= deadline) {
            s_dump_stacks (proc);
            kill (proc->pid, SIGKILL);
            waitpid (proc->pid, &status, 0);
            proc->status = 255;
            s_live_forget (proc);
            return -1;
        }
        usleep (5000);
    }
}

int
tu_stop (tu_proc_t *proc, int signal, int timeout_ms)
{
    if (proc->status < 0)
        kill (proc->pid, signal);
    return tu_wait (proc, timeout_ms);
}

void
tu_proc_destroy (tu_proc_t **proc_p)
{
    if (*proc_p) {
        tu_proc_t *proc = *proc_p;
        if (proc->status < 0)
            tu_stop (proc, SIGKILL, 5000);
        free (proc->log_path);
        free (proc);
        *proc_p = NULL;
    }
}

char *
tu_read_file (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *data = NULL;
    size_t used = 0, capacity = 0;
    while (true) {
        if (used + 65536 + 1 > capacity) {
            capacity = (used + 65536 + 1) * 2;
            data = realloc (data, capacity);
        }
        size_t got = fread (data + used, 1, 65536, file);
        used += got;
        if (got == 0)
            break;
    }
    fclose (file);
    data [used] = 0;
    if (size)
        *size = used;
    return data;
}

tu_capture_t
tu_capture_begin (int fd, const char *path)
{
    fflush (NULL);
    tu_capture_t capture = { fd, dup (fd), path };
    int file = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2 (file, fd);
    close (file);
    return capture;
}

char *
tu_capture_end (tu_capture_t capture)
{
    fflush (NULL);
    dup2 (capture.saved, capture.fd);
    close (capture.saved);
    return tu_read_file (capture.path, NULL);
}

bool
tu_wait_for_text (const char *path, const char *text, int timeout_ms)
{
    const char *parts [] = { text, NULL };
    return tu_wait_for_lines (path, parts, 1, timeout_ms);
}

static bool
s_line_has_all (const char *line, size_t size, const char *const parts [])
{
    for (size_t i = 0; parts [i]; i++) {
        const char *found = memmem (line, size, parts [i], strlen (parts [i]));
        if (!found)
            return false;
    }
    return true;
}

//  Calls back for every line holding all parts; stops when it returns false.
typedef bool (s_line_fn) (const char *line, size_t size, void *arg);

static void
s_each_line (const char *text, const char *const parts [], s_line_fn *fn, void *arg)
{
    const char *line = text;
    while (line && *line) {
        const char *end = strchr (line, '\n');
        size_t size = end ? (size_t) (end - line) : strlen (line);
        if (s_line_has_all (line, size, parts) && !fn (line, size, arg))
            return;
        line = end ? end + 1 : NULL;
    }
}

static bool
s_count (const char *line, size_t size, void *arg)
{
    (void) line, (void) size;
    (*(size_t *) arg)++;
    return true;
}

size_t
tu_count_lines (const char *text, const char *const parts [])
{
    size_t count = 0;
    s_each_line (text, parts, s_count, &count);
    return count;
}

//  Where the value of "key: value" starts in a line, or NULL.
static const char *
s_key_value (const char *line, size_t size, const char *key)
{
    char pattern [64];
    snprintf (pattern, sizeof pattern, "%s: ", key);
    const char *found = memmem (line, size, pattern, strlen (pattern));
    return found ? found + strlen (pattern) : NULL;
}

typedef struct {
    const char *key;
    long sum;
} s_sum_t;

static bool
s_sum (const char *line, size_t size, void *arg)
{
    s_sum_t *sum = arg;
    const char *value = s_key_value (line, size, sum->key);
    if (value)
        sum->sum += atol (value);
    return true;
}

long
tu_sum_field (const char *text, const char *const parts [], const char *key)
{
    s_sum_t sum = { key, 0 };
    s_each_line (text, parts, s_sum, &sum);
    return sum.sum;
}

typedef struct {
    const char *text;
    long offset;
    bool first;
} s_find_t;

static bool
s_find (const char *line, size_t size, void *arg)
{
    (void) size;
    s_find_t *find = arg;
    find->offset = line - find->text;
    return !find->first;
}

long
tu_first_line (const char *text, const char *const parts [])
{
    s_find_t find = { text, -1, true };
    s_each_line (text, parts, s_find, &find);
    return find.offset;
}

long
tu_last_line (const char *text, const char *const parts [])
{
    s_find_t find = { text, -1, false };
    s_each_line (text, parts, s_find, &find);
    return find.offset;
}

typedef struct {
    const char *key;
    char *value;
} s_value_t;

static bool
s_value (const char *line, size_t size, void *arg)
{
    s_value_t *value = arg;
    const char *start = s_key_value (line, size, value->key);
    if (start) {
        const char *end = memmem (start, size - (size_t) (start - line), " |", 2);
        if (!end)
            end = line + size;
        free (value->value);
        value->value = strndup (start, (size_t) (end - start));
    }
    return true;
}

char *
tu_log_value (const char *path, const char *const parts [], const char *key,
              int timeout_ms)
{
    if (!tu_wait_for_lines (path, parts, 1, timeout_ms))
        return NULL;
    char *text = tu_read_file (path, NULL);
    s_value_t value = { key, NULL };
    s_each_line (text, parts, s_value, &value);
    free (text);
    return value.value;
}

bool
tu_wait_for_lines (const char *path, const char *const parts [], size_t count,
                   int timeout_ms)
{
    long long deadline = zclock_mono () + timeout_ms;
    while (true) {
        char *data = tu_read_file (path, NULL);
        bool found = data && tu_count_lines (data, parts) >= count;
        free (data);
        if (found)
            return true;
        if (zclock_mono () >= deadline)
            return false;
        usleep (10000);
    }
}

int
tu_connect (int port, int timeout_ms)
{
    long long deadline = zclock_mono () + timeout_ms;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    while (true) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        if (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0)
            return fd;
        close (fd);
        if (zclock_mono () >= deadline)
            return -1;
        usleep (10000);
    }
}

int
tu_reach (const char *address, int port)
{
    struct sockaddr_storage addr = { 0 };
    struct sockaddr_in *ipv4 = (struct sockaddr_in *) &addr;
    struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *) &addr;
    socklen_t size;
    if (inet_pton (AF_INET, address, &ipv4->sin_addr) == 1) {
        ipv4->sin_family = AF_INET;
        ipv4->sin_port = htons (port);
        size = sizeof *ipv4;
    }
    else
    if (inet_pton (AF_INET6, address, &ipv6->sin6_addr) == 1) {
        ipv6->sin6_family = AF_INET6;
        ipv6->sin6_port = htons (port);
        size = sizeof *ipv6;
    }
    else
        return EINVAL;
    int fd = socket (addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int rc = connect (fd, (struct sockaddr *) &addr, size) == 0 ? 0 : errno;
    close (fd);
    return rc;
}

int
tu_send_all (int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t sent = send (fd, p, size, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += sent;
        size -= (size_t) sent;
    }
    return 0;
}

size_t
tu_recv_exact (int fd, void *data, size_t size, int timeout_ms)
{
    long long deadline = zclock_mono () + timeout_ms;
    size_t got = 0;
    while (got < size) {
        long long left = deadline - zclock_mono ();
        struct pollfd item = { fd, POLLIN, 0 };
        if (left <= 0 || poll (&item, 1, (int) left) <= 0)
            break;
        ssize_t n = recv (fd, (char *) data + got, size - got, 0);
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    return got;
}

bool
tu_wait_closed (int fd, int timeout_ms)
{
    char byte;
    long long deadline = zclock_mono () + timeout_ms;
    while (true) {
        long long left = deadline - zclock_mono ();
        struct pollfd item = { fd, POLLIN, 0 };
        if (left <= 0 || poll (&item, 1, (int) left) <= 0)
            return false;
        ssize_t n = recv (fd, &byte, 1, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0)
            return false;
    }
}

pid_t
tu_thread (pid_t pid, const char *name)
{
    DIR *tasks = opendir (tu_temp ("/proc/%d/task", (int) pid));
    char *line = tu_temp ("%s\n", name);
    pid_t found = 0;
    struct dirent *entry;
    while (tasks && (entry = readdir (tasks))) {
        pid_t tid = (pid_t) atoi (entry->d_name);
        char *comm = tu_temp_own (tu_read_file (tu_temp ("/proc/%d/task/%d/comm", (int) pid,
                                                         (int) tid), NULL));
        if (tid > 0 && tid != pid && comm && strcmp (comm, line) == 0)
            found = tid;
    }
    if (tasks)
        closedir (tasks);
    return found;
}

int
tu_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET };
    socklen_t size = sizeof address;
    assert_int_equal (bind (fd, (struct sockaddr *) &address, size), 0);
    assert_int_equal (getsockname (fd, (struct sockaddr *) &address, &size), 0);
    close (fd);
    return ntohs (address.sin_port);
}

char *
tu_http (int port, const char *request, int *status, int timeout_ms)
{
    long long deadline = zclock_mono () + timeout_ms;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return NULL;
    //  A connect or a send that blocks gives up at the deadline too
    struct timeval wait = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait);
    struct sockaddr_in address = {
        .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
        .sin_addr.s_addr = htonl (INADDR_LOOPBACK)
    };
    char *text = tu_printf ("%s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", request);
    bool sent = connect (fd, (struct sockaddr *) &address, sizeof address) == 0
             && tu_send_all (fd, text, strlen (text)) == 0;
    free (text);
    size_t size = 0, capacity = 1 << 16;
    char *answer = malloc (capacity);
    assert (answer);
    struct pollfd poller = { .fd = fd, .events = POLLIN };
    ssize_t got = sent ? 1 : -1;
    while (got > 0 && zclock_mono () < deadline
       &&  poll (&poller, 1, (int) (deadline - zclock_mono ())) == 1) {
        if (size + 4096 > capacity)
            answer = realloc (answer, capacity *= 2);
        assert (answer);
        got = recv (fd, answer + size, capacity - size - 1, 0);
        size += got > 0 ? (size_t) got : 0;
    }
    close (fd);
    answer [size] = 0;
    if (got != 0 || sscanf (answer, "HTTP/1.%*d %d", status) != 1) {
        free (answer);
        return NULL;
    }
    return answer;
}

double
tu_metrics_sum (const char *text, const char *name, const char *const parts [])
{
    double sum = 0;
    size_t length = strlen (name);
    for (const char *line = text; line && *line; line = strchr (line, '\n'), line += !!line) {
        const char *end = strchr (line, '\n');
        size_t size = end ? (size_t) (end - line) : strlen (line);
        if (strncmp (line, name, length) != 0)
            continue;
        bool all = true;
        for (size_t i = 0; parts && parts [i] && all; i++)
            all = memmem (line, size, parts [i], strlen (parts [i])) != NULL;
        const char *value = memrchr (line, ' ', size);
        if (all && value)
            sum += strtod (value + 1, NULL);
    }
    return sum;
}

double
tu_metric_value (const char *text, const char *sample)
{
    char *name = tu_printf ("%s ", sample);
    double value = tu_metrics_sum (text, name, NULL);
    free (name);
    return value;
}

char *
tu_shared_data (int agency)
{
    char *path = NULL;
    if (asprintf (&path, "%s/agency-%d.csv",
                  getenv ("LOTTERY_DATA_DIR") ? getenv ("LOTTERY_DATA_DIR")
                                              : "../shared/data", agency) < 0)
        return NULL;
    if (access (path, R_OK) != 0) {
        free (path);
        return NULL;
    }
    char *absolute = realpath (path, NULL);
    free (path);
    return absolute;
}

char *
tu_program (const char *name)
{
    const char *dir = getenv ("LOTTERY_BIN_DIR");
    char *path = tu_printf ("%s/%s", dir && *dir ? dir : "bin", name);
    char *absolute = realpath (path, NULL);
    free (path);
    return absolute;
}

void
tu_bin_dir_absolute (void)
{
    const char *bin = getenv ("LOTTERY_BIN_DIR");
    char *absolute = realpath (bin && *bin ? bin : "bin", NULL);
    assert (absolute);
    setenv ("LOTTERY_BIN_DIR", absolute, 1);
    free (absolute);
}

unsigned long long
tu_rand (tu_rng_t *rng)
{
    unsigned long long z = (rng->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

size_t
tu_below (tu_rng_t *rng, size_t n)
{
    return (size_t) (tu_rand (rng) % n);
}

//  ---------------------------------------------------------------------
//  test_e2e and test_actors: blocks freed at the test's teardown

static void **s_temp;
static size_t s_temp_count;

void *
tu_temp_own (void *data)
{
    s_temp = realloc (s_temp, (s_temp_count + 1) * sizeof *s_temp);
    assert_non_null (s_temp);
    s_temp [s_temp_count++] = data;
    return data;
}

char *
tu_temp (const char *format, ...)
{
    char *text = NULL;
    va_list args;
    va_start (args, format);
    int size = vasprintf (&text, format, args);
    va_end (args);
    assert_true (size >= 0);
    return tu_temp_own (text);
}

void
tu_temp_free (void)
{
    for (size_t i = 0; i < s_temp_count; i++)
        free (s_temp [i]);
    free (s_temp);
    s_temp = NULL;
    s_temp_count = 0;
}

static void
s_wire_vpack (tu_wire_t *wire, const char *picture, va_list args)
{
    for (const char *p = picture; *p; p++)
        if (*p == '1')
            tu_wire_byte (wire, va_arg (args, unsigned));
        else
        if (*p == '2')
            tu_wire_u16 (wire, va_arg (args, unsigned));
        else
        if (*p == '4')
            tu_wire_u32 (wire, va_arg (args, unsigned));
        else
        if (*p == 's')
            tu_wire_str (wire, va_arg (args, const char *));
        else {
            assert_int_equal (*p, 'b');
            const void *data = va_arg (args, const void *);
            tu_wire_bytes (wire, data, va_arg (args, size_t));
        }
}

void
tu_wire_pack (tu_wire_t *wire, const char *picture, ...)
{
    va_list args;
    va_start (args, picture);
    s_wire_vpack (wire, picture, args);
    va_end (args);
}

tu_wire_t
tu_wire (const char *picture, ...)
{
    tu_wire_t wire = { .size = 0 };
    va_list args;
    va_start (args, picture);
    s_wire_vpack (&wire, picture, args);
    va_end (args);
    return wire;
}

void
tu_expect_pack (int fd, const char *picture, ...)
{
    tu_wire_t want = { .size = 0 };
    va_list args;
    va_start (args, picture);
    s_wire_vpack (&want, picture, args);
    va_end (args);
    tu_expect_bytes (fd, want.data, want.size);
}

//  --------------------------------------------------------------------------
//  For the tests of lib/

#include <zlib.h>

void
tu_write_file (const char *path, const void *data, size_t size)
{
    int fd = open (path, O_WRONLY | O_CREAT, 0644);
    assert_true (fd >= 0);
    assert_int_equal (pwrite (fd, data, size, 0), (ssize_t) size);
    assert_int_equal (ftruncate (fd, (off_t) size), 0);
    assert_int_equal (close (fd), 0);
}

void
tu_assert_file (const char *path, const void *data, size_t size)
{
    size_t got = 0;
    char *text = tu_read_file (path, &got);
    assert_non_null (text);
    tu_assert_bytes (text, got, data, size);
    free (text);
}

const char *
tu_journal_line (const char *format, ...)
{
    static char ring [8][256];
    static size_t next;
    char body [200], *line = ring [next++ % 8];
    va_list args;
    va_start (args, format);
    assert_true (vsnprintf (body, sizeof body, format, args) < (int) sizeof body);
    va_end (args);
    snprintf (line, sizeof ring [0], "%s %08lx\n", body,
              crc32 (0, (const Bytef *) body, (uInt) strlen (body)));
    return line;
}
