/* netbench: the small TCP server and clients that bench/run.sh uses for the round-trip,
 * connect-rate and start-up measurements. Written for this benchmark; bench/bench.py
 * compiles it into its temporary directory (cc -O2), nothing is installed.
 *
 *   netbench server ADDR PORT MAX_SECONDS
 *       epoll server. For each byte 'p' it receives it answers 'p' (ping-pong); on a
 *       byte 'c' it answers 'c' and closes the connection (so the server side closes
 *       first and TIME_WAIT stays off the client's ephemeral ports). Exits after
 *       MAX_SECONDS at the latest.
 *   netbench pingpong ADDR PORT MAX_COUNT MAX_SECONDS
 *       one connection, TCP_NODELAY, 1-byte request / 1-byte answer in a loop.
 *   netbench connrate ADDR PORT MAX_COUNT MAX_SECONDS
 *       one connection after another: connect, send 'c', read 'c', read end-of-file,
 *       close.
 *   netbench burst ADDR PORT COUNT MAX_SECONDS
 *       COUNT non-blocking connects at once; each connection sends 'p' as soon as it is
 *       connected and waits for the answer. Samples are the times from the start of
 *       the burst to each answer; "errors" counts connections that failed or had no
 *       answer after MAX_SECONDS.
 *
 * The clients print one line of JSON: count, seconds, and for each operation the
 * mean, median (p50) and p99 in microseconds. Every loop stops at MAX_COUNT or
 * MAX_SECONDS, whichever comes first.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "netbench: %s: %s\n", what, strerror(errno));
    exit(2);
}

static struct sockaddr_in make_addr(const char *addr, const char *port) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(port));
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "netbench: not a numeric IPv4 address: %s\n", addr);
        exit(2);
    }
    return sa;
}

static void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void on_stop_signal(int sig) {
    (void)sig;
    _exit(0);
}

static int run_server(const char *addr, const char *port, int max_seconds) {
    signal(SIGPIPE, SIG_IGN);
    /* Handlers, not default actions: pasta runs the command as process 1 of a new PID
     * namespace, and such a process ignores every signal it has no handler for
     * (SIGKILL aside), even the SIGALRM that bounds the server's life. */
    struct sigaction sa_stop;
    memset(&sa_stop, 0, sizeof sa_stop);
    sa_stop.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa_stop, NULL);
    sigaction(SIGINT, &sa_stop, NULL);
    sigaction(SIGHUP, &sa_stop, NULL);
    sigaction(SIGALRM, &sa_stop, NULL);
    alarm((unsigned)max_seconds); /* a hard bound on the server's life */
    struct sockaddr_in sa = make_addr(addr, port);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl");
    struct epoll_event events[256];
    char buf[4096];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                for (;;) {
                    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) break;
                    set_nodelay(c);
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) < 0) close(c);
                }
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r <= 0) {
                close(fd);
                continue;
            }
            int close_after = memchr(buf, 'c', (size_t)r) != NULL;
            /* Answers are as long as the requests: at most a few bytes in flight. */
            ssize_t off = 0;
            while (off < r) {
                ssize_t w = write(fd, buf + off, (size_t)(r - off));
                if (w < 0) {
                    if (errno == EINTR) continue;
                    close_after = 1;
                    break;
                }
                off += w;
            }
            if (close_after) close(fd);
        }
    }
    return 0; /* not reached: the server ends by SIGALRM or a signal from bench.py */
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void print_result(const char *mode, double *samples, long count, double elapsed,
                         long errors) {
    double sum = 0;
    for (long i = 0; i < count; i++) sum += samples[i];
    qsort(samples, (size_t)count, sizeof(double), cmp_double);
    double p50 = count ? samples[count / 2] : 0;
    double p99 = count ? samples[(long)((double)(count - 1) * 0.99)] : 0;
    double max = count ? samples[count - 1] : 0;
    printf("{\"mode\": \"%s\", \"count\": %ld, \"seconds\": %.6f, \"errors\": %ld, "
           "\"mean_us\": %.3f, \"p50_us\": %.3f, \"p99_us\": %.3f, \"max_us\": %.3f, "
           "\"per_second\": %.1f}\n",
           mode, count, elapsed, errors, count ? sum / (double)count * 1e6 : 0, p50 * 1e6,
           p99 * 1e6, max * 1e6, elapsed > 0 ? (double)count / elapsed : 0);
}

static int read_exact(int fd, char *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

static int run_pingpong(const char *addr, const char *port, long max_count, double max_seconds) {
    struct sockaddr_in sa = make_addr(addr, port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect");
    set_nodelay(fd);
    double *samples = calloc((size_t)max_count, sizeof(double));
    if (!samples) die("calloc");
    char b = 'p';
    /* A few warm-up round trips, not counted. */
    for (int i = 0; i < 100; i++) {
        if (write(fd, &b, 1) != 1 || read_exact(fd, &b, 1) < 0) die("warm-up round trip");
    }
    long count = 0;
    double start = now(), t = start;
    while (count < max_count && t - start < max_seconds) {
        if (write(fd, &b, 1) != 1) die("write");
        if (read_exact(fd, &b, 1) < 0) die("read");
        double t2 = now();
        samples[count++] = t2 - t;
        t = t2;
    }
    print_result("pingpong", samples, count, t - start, 0);
    close(fd);
    return 0;
}

static int run_connrate(const char *addr, const char *port, long max_count, double max_seconds) {
    struct sockaddr_in sa = make_addr(addr, port);
    double *samples = calloc((size_t)max_count, sizeof(double));
    if (!samples) die("calloc");
    long count = 0, errors = 0;
    double start = now(), t = start;
    while (count < max_count && t - start < max_seconds && errors < 1000) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) die("socket");
        char b = 'c';
        int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (ok) {
            set_nodelay(fd);
            ok = write(fd, &b, 1) == 1 && read_exact(fd, &b, 1) == 0 && b == 'c';
        }
        if (ok) {
            char rest;
            ok = read(fd, &rest, 1) == 0; /* the server closes first */
        }
        close(fd);
        double t2 = now();
        if (ok)
            samples[count++] = t2 - t;
        else
            errors++;
        t = t2;
    }
    print_result("connrate", samples, count, t - start, errors);
    return 0;
}

static int run_burst(const char *addr, const char *port, long count, double max_seconds) {
    struct sockaddr_in sa = make_addr(addr, port);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    int *fds = calloc((size_t)count, sizeof(int));
    double *samples = calloc((size_t)count, sizeof(double));
    if (!fds || !samples) die("calloc");
    long answered = 0, failed = 0;
    double start = now();
    for (long i = 0; i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) die("socket");
        fds[i] = fd;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
            failed++;
            close(fd);
            fds[i] = -1;
            continue;
        }
        struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    }
    struct epoll_event events[256];
    while (answered + failed < count) {
        double left = max_seconds - (now() - start);
        if (left <= 0) break;
        int n = epoll_wait(ep, events, 256, (int)(left * 1000) + 1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int k = 0; k < n; k++) {
            long i = (long)events[k].data.u64;
            int fd = fds[i];
            if (fd < 0) continue;
            int ok = 1;
            if (events[k].events & EPOLLOUT) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                char b = 'p';
                if (err != 0 || write(fd, &b, 1) != 1) {
                    ok = 0;
                } else {
                    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
                    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
                    continue;
                }
            } else {
                char b;
                ok = read(fd, &b, 1) == 1 && b == 'p';
                if (ok) samples[answered++] = now() - start;
            }
            if (!ok) failed++;
            epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
            close(fd);
            fds[i] = -1;
        }
    }
    double elapsed = now() - start;
    for (long i = 0; i < count; i++)
        if (fds[i] >= 0) close(fds[i]);
    long unanswered = count - answered - failed;
    print_result("burst", samples, answered, elapsed, failed + unanswered);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "server") == 0)
        return run_server(argv[2], argv[3], atoi(argv[4]));
    if (argc == 6 && strcmp(argv[1], "pingpong") == 0)
        return run_pingpong(argv[2], argv[3], atol(argv[4]), atof(argv[5]));
    if (argc == 6 && strcmp(argv[1], "connrate") == 0)
        return run_connrate(argv[2], argv[3], atol(argv[4]), atof(argv[5]));
    if (argc == 6 && strcmp(argv[1], "burst") == 0)
        return run_burst(argv[2], argv[3], atol(argv[4]), atof(argv[5]));
    fprintf(stderr,
            "usage: netbench server ADDR PORT MAX_SECONDS\n"
            "       netbench pingpong ADDR PORT MAX_COUNT MAX_SECONDS\n"
            "       netbench connrate ADDR PORT MAX_COUNT MAX_SECONDS\n"
            "       netbench burst ADDR PORT COUNT MAX_SECONDS\n");
    return 2;
}
