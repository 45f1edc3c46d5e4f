#ifndef COUPONRANK_CHIREDIS_SHIM_H
#define COUPONRANK_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

/* Typed wrappers: Swift sees redisReply * instead of void *, milliseconds instead of timeval. */

static inline struct timeval crh_timeval(long milliseconds) {
    struct timeval tv;
    tv.tv_sec = milliseconds / 1000;
    tv.tv_usec = (milliseconds % 1000) * 1000;
    return tv;
}

static inline redisContext *crh_connect(const char *host, int port, long timeout_ms) {
    return redisConnectWithTimeout(host, port, crh_timeval(timeout_ms));
}

/* Send and receive timeout of every later command; 0 means block without limit. */
static inline int crh_set_timeout(redisContext *c, long timeout_ms) {
    return redisSetTimeout(c, crh_timeval(timeout_ms));
}

static inline redisReply *crh_command_argv(redisContext *c, int argc, const char **argv, const size_t *argvlen) {
    return (redisReply *)redisCommandArgv(c, argc, argv, argvlen);
}

/* Queues a command without waiting for its reply (pipelining); REDIS_OK or REDIS_ERR. */
static inline int crh_append_command_argv(redisContext *c, int argc, const char **argv, const size_t *argvlen) {
    return redisAppendCommandArgv(c, argc, argv, argvlen);
}

/* Writes every queued command to the socket (blocking); REDIS_OK or REDIS_ERR. */
static inline int crh_flush(redisContext *c) {
    int done = 0;
    do {
        if (redisBufferWrite(c, &done) == REDIS_ERR) return REDIS_ERR;
    } while (!done);
    return REDIS_OK;
}

static inline int crh_get_reply(redisContext *c, redisReply **reply) {
    void *raw = NULL;
    int status = redisGetReply(c, &raw);
    *reply = (redisReply *)raw;
    return status;
}

static inline int crh_error(const redisContext *c) { return c->err; }
static inline const char *crh_error_string(const redisContext *c) { return c->errstr; }

/* Whether a connection with no reply outstanding has something to read: the server closed it
   (a restart, a failover, its idle timeout) or broke it. 1 or 0; it does not wait. */
static inline int crh_peer_closed(const redisContext *c) {
    struct pollfd pfd;
    pfd.fd = c->fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

/* Unblocks a thread waiting in crh_get_reply on this context (used to stop a subscriber). */
static inline void crh_shutdown(redisContext *c) { shutdown(c->fd, SHUT_RDWR); }

#endif
