/* rpc client failover: a request whose replica dies (kill -9) while it holds
 * the request is answered by the other replica, not failed and not left to
 * run into its deadline. Regression test for NNG_OPT_REQ_RESENDTIME set to
 * infinite, with which nng 1.5.2 fails such a request with ECONNRESET.
 *
 * The replicas are child processes forked before this process touches nng
 * (nng is not fork-safe): replica "stuck" reports each call it gets on a pipe
 * and never answers; replica "live" answers with its name. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/rpc.h"

static int fails;
static int notify_fd = -1;

#define CHECK(cond, what) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "FAIL: %s (%s)\n", what, #cond); \
			fails++; \
		} \
	} while (0)

static mgr_err
h_stuck(struct rpc_call *call, void *arg)
{
	(void)call;
	(void)arg;
	if (write(notify_fd, "s", 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

static mgr_err
h_live(struct rpc_call *call, void *arg)
{
	Mgr__Caller who = MGR__CALLER__INIT;

	(void)arg;
	who.id = "live";
	return (rpc_reply(call, &who.base));
}

static const struct rpc_method stuck_methods[] = {{"who", h_stuck}, {NULL, NULL}};
static const struct rpc_method live_methods[] = {{"who", h_live}, {NULL, NULL}};

static pid_t
replica(const char *url, const struct rpc_method *methods)
{
	struct rpc_server *s = NULL;
	pid_t pid = fork();

	if (pid != 0)
		return (pid);
	if (rpc_server_create(&s, url, methods, NULL, 4) != MGR_OK)
		_exit(2);
	for (;;)
		pause();
}

/* Calls "who" until the stuck replica has the call, kills it, and checks
 * that the same call is answered by the live replica. */
static void
failover(const char *what, const char *url_stuck, const char *url_live)
{
	struct rpc_client *c = NULL;
	Mgr__Caller me = MGR__CALLER__INIT;
	int pfd[2];
	pid_t stuck, live;
	char msg[256], b;
	int answered_live = 0, tries;

	if (pipe(pfd) != 0) {
		fails++;
		return;
	}
	notify_fd = pfd[1];
	stuck = replica(url_stuck, stuck_methods);
	live = replica(url_live, live_methods);
	close(pfd[1]);
	/* The parent touches nng only from here on (children are forked). */
	if (fork() == 0) {
		/* Watcher: kill -9 the stuck replica once it holds a call. */
		if (read(pfd[0], &b, 1) == 1)
			kill(stuck, SIGKILL);
		_exit(0);
	}
	close(pfd[0]);
	{
		char list[512];

		snprintf(list, sizeof(list), "%s,%s", url_stuck, url_live);
		CHECK(rpc_client_create(&c, list) == MGR_OK, what);
	}
	me.kind = MGR__CALLER__KIND__SERVICE;
	/* Until the stuck replica got one call (then it is killed), calls
	 * spread over both; every one of them must be answered by "live". */
	for (tries = 0; tries < 500 && c != NULL; tries++) {
		struct timespec pause_ts = {0, 20 * 1000000L};
		Mgr__Caller *out = NULL;
		mgr_err rv;

		rv = rpc_call(c, "who", "failover", &me, NULL, &mgr__caller__descriptor,
		    (ProtobufCMessage **)&out, msg, sizeof(msg), 30000);
		if (rv != MGR_OK) {
			fprintf(stderr, "FAIL: %s: call %d: %s (%s)\n", what, tries,
			    mgr_err_code(rv), msg);
			fails++;
			break;
		}
		CHECK(strcmp(out->id, "live") == 0, what);
		protobuf_c_message_free_unpacked(&out->base, NULL);
		answered_live++;
		if (waitpid(stuck, NULL, WNOHANG) == stuck) {
			stuck = 0;
			break;
		}
		/* Let the dialer connect to both replicas (background). */
		nanosleep(&pause_ts, NULL);
	}
	CHECK(stuck == 0, "the stuck replica got a call and was killed");
	CHECK(answered_live > 0, what);
	rpc_client_destroy(c);
	if (stuck != 0) {
		kill(stuck, SIGKILL);
		waitpid(stuck, NULL, 0);
	}
	kill(live, SIGKILL);
	waitpid(live, NULL, 0);
	while (waitpid(-1, NULL, 0) > 0)
		;
	fprintf(stderr, "%s: %d calls answered by the live replica\n", what,
	    answered_live);
}

/* A free TCP port below the ephemeral range (so no outgoing connection,
 * not even a dialer connecting to itself, takes it first). */
static int
free_port(int skip)
{
	for (int i = 0; i < 200; i++) {
		struct sockaddr_in sa;
		int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons((uint16_t)(20000 + (getpid() * 7 + i * 131) % 12000));
		ok = fd >= 0 && ntohs(sa.sin_port) != skip &&
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return (ntohs(sa.sin_port));
	}
	return (0);
}

/* Runs one case in a child process, so that each case forks its replicas
 * before nng is initialised in the process that forks them. */
static void
run_case(const char *what, const char *a, const char *b)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		failover(what, a, b);
		_exit(fails == 0 ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "FAIL: %s\n", what);
		fails++;
	}
}

int
main(void)
{
	char dir[] = "/tmp/mgr-rpc-failover.XXXXXX";
	char a[128], b[128];
	int passed = 0, before, port;

	mgr_log_init("test", MGR_LOG_ERROR);
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		return (1);
	snprintf(a, sizeof(a), "ipc://%s/a.sock", dir);
	snprintf(b, sizeof(b), "ipc://%s/b.sock", dir);
	before = fails;
	run_case("ipc:// replica killed holding a call", a, b);
	passed += fails == before;
	unlink(a + 6);
	unlink(b + 6);
	rmdir(dir);

	port = free_port(0);
	snprintf(a, sizeof(a), "tcp://127.0.0.1:%d", port);
	snprintf(b, sizeof(b), "tcp://127.0.0.1:%d", free_port(port));
	before = fails;
	setenv("MANAGER_RPC_ALLOW_PLAINTEXT", "1", 1);
	run_case("tcp:// replica killed holding a call", a, b);
	passed += fails == before;

	/* Last (nng is not fork-safe): without the opt-in a plain tcp://
	 * address is refused on both sides, so no process that reaches the
	 * port can call a service as any caller it likes. */
	before = fails;
	unsetenv("MANAGER_RPC_ALLOW_PLAINTEXT");
	{
		struct rpc_server *s = NULL;
		struct rpc_client *c = NULL;

		CHECK(rpc_server_create(&s, a, live_methods, NULL, 1) != MGR_OK,
		    "a service refuses to listen on plain tcp://");
		CHECK(rpc_client_create(&c, a) != MGR_OK,
		    "a client refuses to dial plain tcp://");
		if (s != NULL)
			rpc_server_destroy(s);
		if (c != NULL)
			rpc_client_destroy(c);
	}
	passed += fails == before;

	printf("%d passed, %d failed\n", passed, fails);
	return (fails == 0 ? 0 : 1);
}
