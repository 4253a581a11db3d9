/* `zonelet vm`: the appliance in a virtual machine with the hosted
 * server's interface (cmd.h). This file makes the plan: options, the
 * guest's boot arguments, the block image (vm_image.c), the network
 * (QEMU's hostfwd, or the forwarder of vm_fwd.c on a TAP or for what
 * hostfwd cannot bind); vm_run.c runs it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unikernel/cmd.h"
#include "unikernel/config.h"
#include "unikernel/log.h"
#include "unikernel/vm_fwd.h"
#include "unikernel/vm_image.h"
#include "unikernel/vm_run.h"

#define VM_ARGS_MAX 256
#define VM_CMDLINE_MAX 8000   /* the runtime keeps 8 KiB of boot arguments */
#define VM_GUEST_DIR "/zones"
/* QEMU's user network: the guest's fixed address and its gateway. */
#define VM_USER_GUEST "10.0.2.15"
#define VM_USER_GW "10.0.2.2"

typedef struct vm_opts {
    const char *target, *image, *monitor, *net, *accel, *write_image;
    unsigned mem, boot_timeout;
} vm_opts_t;

typedef struct vm {
    vm_opts_t o;
    srv_config_t cfg;
    bool default_listen;          /* no --listen given: the server's defaults */
    char *argv[VM_ARGS_MAX];      /* the monitor's command line, owned strings */
    size_t argc;
    char *gopt[VM_ARGS_MAX];      /* the server options as boot arguments, owned */
    size_t ngopt;
    char netdev[4096];            /* virtio user network: -netdev user,... */
    struct sockaddr_storage probe[SRV_LISTEN_MAX];
    socklen_t probe_len[SRV_LISTEN_MAX];
    size_t nprobe;
    srv_vm_fwd_t *fwd;
    char image_path[PATH_MAX];    /* the temporary block image ("" if none) */
    char tap[16];                 /* the TAP made for the guest ("" if none) */
    char host_ip[16], guest_ip[16];
} vm_t;

static void vm_usage(FILE *f)
{
    fputs("usage: zonelet vm [vm options] [server options]\n"
          "  the appliance in a virtual machine: --zones DIR goes in a block image, the\n"
          "  server options become boot arguments, every --listen ADDR:PORT is forwarded\n"
          "  to the guest's port 53 (UDP and TCP); the console on standard output,\n"
          "  \"zonelet: ready\" once the guest answers; SIGTERM or SIGINT stop it.\n"
          "vm options (anywhere among the server options):\n"
          "  --target virtio|hvt    QEMU (KVM when /dev/kvm works, else TCG) or the hvt\n"
          "                         monitor (KVM only) [virtio]\n"
          "  --net user|tap         QEMU's user network (hostfwd, no privileges), or a\n"
          "                         TAP made for the guest plus a forwarder (root;\n"
          "                         the only choice for hvt) [user for virtio]\n"
          "  --mem MiB              guest memory [64]\n"
          "  --accel auto|kvm|tcg   virtio: QEMU's accelerator [auto]\n"
          "  --boot-timeout S       boot to first answers at most [60]\n"
          "  --image FILE           the appliance [BINDIR/uk/zonelet.TARGET]\n"
          "  --monitor FILE         [BINDIR/zonelet-virtio or BINDIR/zonelet-hvt]\n"
          "  --write-image FILE     only write the block image of --zones to FILE\n"
          "In the guest: the zones are read-only files under " VM_GUEST_DIR "; changes (UPDATE)\n"
          "live in its memory until it stops. SIGHUP is not passed on. The guest sees\n"
          "every client as its gateway (user network: " VM_USER_GW ").\n"
          "server options: as `zonelet --help` below; --remote-key, --remote-known-hosts\n"
          "and --remote-ca are refused (host files the guest cannot read).\n\n", f);
}

static int usage_error(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "zonelet vm: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, " (zonelet vm --help)\n");
    return 2;
}

static int parse_unsigned(const char *opt, const char *s, unsigned lo, unsigned hi, unsigned *v)
{
    char *end;
    unsigned long n = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || n < lo || n > hi) {
        fprintf(stderr, "zonelet vm: %s %s: a number from %u to %u\n", opt, s, lo, hi);
        return -1;
    }
    *v = (unsigned)n;
    return 0;
}

/* Takes the vm options out of argv[1..argc), wherever they are (no
 * server option's name starts like one), leaving the server options in
 * order. Returns the new argc, or -1 (message printed). */
static int vm_options(vm_opts_t *o, int argc, char **argv)
{
    static const char *const names[] = {"--target", "--image", "--monitor", "--net", "--accel",
                                        "--write-image", "--mem", "--boot-timeout"};
    o->target = "virtio";
    o->mem = 64;
    o->boot_timeout = 60;
    int out = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL, *eq = strchr(a, '=');
        size_t k = 0, len = eq ? (size_t)(eq - a) : strlen(a);
        while (k < sizeof names / sizeof names[0] &&
               (strlen(names[k]) != len || strncmp(a, names[k], len) != 0))
            k++;
        if (k == sizeof names / sizeof names[0]) {
            argv[out++] = argv[i];
            continue;
        }
        v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!v)
            return usage_error("%s needs a value%s", names[k], ""), -1;
        if (k == 0) o->target = v;
        else if (k == 1) o->image = v;
        else if (k == 2) o->monitor = v;
        else if (k == 3) o->net = v;
        else if (k == 4) o->accel = v;
        else if (k == 5) o->write_image = v;
        else if (k == 6 && parse_unsigned("--mem", v, 8, 3072, &o->mem)) return -1;
        else if (k == 7 && parse_unsigned("--boot-timeout", v, 1, 3600, &o->boot_timeout)) return -1;
    }
    argv[out] = NULL;
    if (strcmp(o->target, "virtio") && strcmp(o->target, "hvt"))
        return usage_error("--target %s: virtio or hvt%s", o->target, ""), -1;
    if (!o->net)
        o->net = strcmp(o->target, "hvt") ? "user" : "tap";
    if (strcmp(o->net, "user") && strcmp(o->net, "tap"))
        return usage_error("--net %s: user or tap%s", o->net, ""), -1;
    if (!strcmp(o->target, "hvt") && !strcmp(o->net, "user"))
        return usage_error("--target hvt has no user network: --net tap%s%s", "", ""), -1;
    if (o->accel && strcmp(o->target, "virtio"))
        return usage_error("--accel is for --target virtio%s%s", "", ""), -1;
    if (!strcmp(o->target, "hvt") && o->mem % 2)
        o->mem++; /* the hvt monitor wants an even number */
    return out;
}

/* Appends fmt (with a, b) to v[*n] (owned, at most VM_ARGS_MAX - 1). */
static int push_to(char **v, size_t *n, const char *fmt, const char *a, const char *b)
{
    char buf[8192];
    int len = snprintf(buf, sizeof buf, fmt, a, b);
    if (len < 0 || (size_t)len >= sizeof buf || *n + 1 >= VM_ARGS_MAX || !(v[*n] = strdup(buf))) {
        fprintf(stderr, "zonelet vm: too many or too long arguments\n");
        return -1;
    }
    (*n)++;
    return 0;
}

static int push(vm_t *vm, const char *fmt, const char *a, const char *b)
{
    return push_to(vm->argv, &vm->argc, fmt, a, b);
}

/* srv_config_each: one server option -> one boot argument. */
static int guest_option(void *ctx, const char *name, const char *value)
{
    vm_t *vm = ctx;
    if (!strcmp(name, "zones") || !strcmp(name, "listen"))
        return 0; /* the image and the forwards stand for them */
    if (!strcmp(name, "remote-key") || !strcmp(name, "remote-known-hosts") ||
        !strcmp(name, "remote-ca")) {
        fprintf(stderr, "zonelet vm: --%s names a host file the guest cannot read "
                "(not supported yet)\n", name);
        return -1;
    }
    if (value && (!*value || strpbrk(value, " \t\n\r\v\f"))) {
        fprintf(stderr, "zonelet vm: --%s '%s': a boot argument cannot be empty or hold "
                "whitespace\n", name, value);
        return -1;
    }
    return value ? push_to(vm->gopt, &vm->ngopt, "--%s=%s", name, value)
                 : push_to(vm->gopt, &vm->ngopt, "--%s%s", name, "");
}

/* BINDIR/rest: beside this program (build/zonelet -> build/...). */
static int beside_me(char *out, size_t cap, const char *rest, const char *target)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    n = snprintf(out, cap, "%s/%s%s", self, rest, target);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Runs `ip ARGS...` (TAP set-up), its output to stderr. Returns 0 on success. */
static int ip_cmd(char *const *args)
{
    pid_t p = fork();
    if (p == 0) {
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execvp("ip", args);
        _exit(127);
    }
    int st;
    return p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void tap_delete(vm_t *vm)
{
    if (!vm->tap[0])
        return;
    char *del[] = {"ip", "link", "del", vm->tap, NULL};
    (void)ip_cmd(del);
    vm->tap[0] = '\0';
}

/* A TAP for the guest: host .1, guest .2 of a /30 in 10.213.0.0/16 picked
 * by this process's id. */
static int tap_create(vm_t *vm)
{
    unsigned idx = (unsigned)getpid() % 16384;
    char name[16], cidr[24];
    snprintf(name, sizeof name, "zlvm%u", (unsigned)getpid() % 1000000);
    snprintf(vm->host_ip, sizeof vm->host_ip, "10.213.%u.%u", idx / 64, idx % 64 * 4 + 1);
    snprintf(vm->guest_ip, sizeof vm->guest_ip, "10.213.%u.%u", idx / 64, idx % 64 * 4 + 2);
    snprintf(cidr, sizeof cidr, "%s/30", vm->host_ip);
    char *add[] = {"ip", "tuntap", "add", "dev", name, "mode", "tap", NULL};
    char *addr[] = {"ip", "addr", "add", cidr, "dev", name, NULL};
    char *up[] = {"ip", "link", "set", name, "up", NULL};
    if (ip_cmd(add)) {
        srv_vm_log("cannot create the TAP %s (--net tap needs root and iproute2)", name);
        return -1;
    }
    snprintf(vm->tap, sizeof vm->tap, "%s", name);
    if (ip_cmd(addr) || ip_cmd(up)) {
        srv_vm_log("cannot configure the TAP %s", name);
        return -1;
    }
    return 0;
}

static bool is_any(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* Where to send the readiness probe for a listen address (the loopback
 * address of its family for a wildcard). */
static void add_probe(vm_t *vm, const struct sockaddr_storage *ss, socklen_t len)
{
    struct sockaddr_storage *p = &vm->probe[vm->nprobe];
    *p = *ss;
    vm->probe_len[vm->nprobe++] = len;
    if (!is_any(p))
        return;
    if (p->ss_family == AF_INET)
        ((struct sockaddr_in *)p)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else
        ((struct sockaddr_in6 *)p)->sin6_addr = in6addr_loopback;
}

/* A port free for UDP and TCP on 127.0.0.1 (the forwarder's way into
 * hostfwd). Returns it, or 0. */
static unsigned free_port(void)
{
    for (int tries = 0; tries < 50; tries++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof a;
        int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), u = -1;
        unsigned port = 0;
        if (t >= 0 && !bind(t, (struct sockaddr *)&a, len) &&
            !getsockname(t, (struct sockaddr *)&a, &len) &&
            (u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0 &&
            !bind(u, (struct sockaddr *)&a, len))
            port = ntohs(a.sin_port);
        if (t >= 0)
            close(t);
        if (u >= 0)
            close(u);
        if (port)
            return port;
    }
    return 0;
}

/* Can QEMU bind UDP and TCP there? Checked first for a clear message. */
static int check_bindable(const struct sockaddr_storage *ss, socklen_t len)
{
    static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        int one = 1, fd = socket(ss->ss_family, types[k] | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -errno;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        int rc = bind(fd, (const struct sockaddr *)ss, len) ? -errno : 0;
        close(fd);
        if (rc)
            return rc;
    }
    return 0;
}

static int listen_failed(vm_t *vm, size_t i, int err)
{
    char text[64];
    srv_addr_text((const struct sockaddr *)&vm->cfg.listen[i], text, sizeof text);
    bool v6 = vm->cfg.listen[i].ss_family == AF_INET6;
    if (vm->default_listen && v6 && (err == EADDRNOTAVAIL || err == EAFNOSUPPORT)) {
        srv_log("not listening on %s: %s", text, strerror(err));
        return 0; /* as the hosted server: the default IPv6 address is optional */
    }
    srv_log("cannot listen on %s: %s", text, strerror(err));
    return -1;
}

/* The user network's one hostfwd rule pair: the first --listen address
 * that is IPv4 and not a wildcard, else an internal port on 127.0.0.1.
 * Only one: with two UDP rules to the guest's port 53, slirp sends every
 * reply out through the first rule's socket, so the second would answer
 * from the wrong address. Returns the index of the --listen address it
 * serves, SRV_LISTEN_MAX for the internal port, or -1. */
static int plan_hostfwd(vm_t *vm, struct sockaddr_in *to)
{
    char host[INET_ADDRSTRLEN] = "127.0.0.1";
    unsigned port = 0;
    int which = SRV_LISTEN_MAX;
    for (size_t i = 0; i < vm->cfg.nlisten && which == SRV_LISTEN_MAX; i++) {
        const struct sockaddr_storage *ss = &vm->cfg.listen[i];
        if (ss->ss_family != AF_INET || is_any(ss))
            continue;
        int rc = check_bindable(ss, vm->cfg.listen_len[i]);
        if (rc)
            return listen_failed(vm, i, -rc) ? -1 : SRV_LISTEN_MAX; /* not optional: IPv4 */
        *to = *(const struct sockaddr_in *)ss;
        port = ntohs(to->sin_port);
        inet_ntop(AF_INET, &to->sin_addr, host, sizeof host);
        which = (int)i;
    }
    if (which == SRV_LISTEN_MAX) {
        if (!(port = free_port())) {
            srv_vm_log("no free port on 127.0.0.1 for the forwarder");
            return -1;
        }
        to->sin_family = AF_INET;
        to->sin_port = htons((uint16_t)port);
        to->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    snprintf(vm->netdev, sizeof vm->netdev, "user,hostfwd=udp:%s:%u-:53,hostfwd=tcp:%s:%u-:53",
             host, port, host, port);
    return which;
}

/* Forwards for every --listen address, and the guest's address: on the
 * user network, hostfwd for one and the forwarder to it for the others;
 * on a TAP, the forwarder to the guest for all. */
static int plan_network(vm_t *vm)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
    int direct = -1;
    if (!(vm->fwd = srv_vm_fwd_new()))
        return -1;
    if (!strcmp(vm->o.net, "tap")) {
        if (tap_create(vm))
            return -1;
        inet_pton(AF_INET, vm->guest_ip, &to.sin_addr);
    } else if ((direct = plan_hostfwd(vm, &to)) < 0) {
        return -1;
    }
    for (size_t i = 0; i < vm->cfg.nlisten; i++) {
        const struct sockaddr_storage *ss = &vm->cfg.listen[i];
        socklen_t len = vm->cfg.listen_len[i];
        if ((int)i != direct) {
            int rc = srv_vm_fwd_add(vm->fwd, (const struct sockaddr *)ss, len,
                                    (const struct sockaddr *)&to, sizeof to);
            if (rc && listen_failed(vm, i, -rc))
                return -1;
            if (rc)
                continue;
        }
        add_probe(vm, ss, len);
    }
    if (!vm->nprobe) {
        srv_log("no address to listen on");
        return -1;
    }
    return 0;
}

/* The monitor's command line: options, image, then the boot arguments. */
static int plan_command(vm_t *vm)
{
    char mon[PATH_MAX], img[PATH_MAX], mem[16];
    bool virtio = !strcmp(vm->o.target, "virtio"), tap = !strcmp(vm->o.net, "tap");
    if (vm->o.monitor)
        snprintf(mon, sizeof mon, "%s", vm->o.monitor);
    else if (beside_me(mon, sizeof mon, "zonelet-", vm->o.target))
        return -1;
    if (vm->o.image)
        snprintf(img, sizeof img, "%s", vm->o.image);
    else if (beside_me(img, sizeof img, "uk/zonelet.", vm->o.target))
        return -1;
    if (access(mon, X_OK) || access(img, R_OK)) {
        srv_vm_log("%s: %s (make appliance %s)", access(mon, X_OK) ? mon : img, strerror(errno),
                virtio ? "virtio" : "hvt");
        return -1;
    }
    snprintf(mem, sizeof mem, "%u", vm->o.mem);
    if (push(vm, "%s%s", mon, "") || push(vm, "--mem=%s%s", mem, "") ||
        push(vm, virtio ? "--block-ro=%s%s" : "--block=%s%s", vm->image_path, "") ||
        (tap ? push(vm, "--net=%s%s", vm->tap, "") : push(vm, "--net=%s%s", vm->netdev, "")) ||
        (vm->o.accel && push(vm, "--accel=%s%s", vm->o.accel, "")) || push(vm, "%s%s", img, ""))
        return -1;
    size_t from = vm->argc, total = 0;
    if (push(vm, "--block-tar=%s%s", VM_GUEST_DIR, "") ||
        push(vm, "--zones=%s%s", VM_GUEST_DIR, "") || push(vm, "--listen=0.0.0.0:53%s%s", "", "") ||
        push(vm, "--ipv4=%s/%s", tap ? vm->guest_ip : VM_USER_GUEST, tap ? "30" : "24") ||
        push(vm, "--ipv4-gateway=%s%s", tap ? vm->host_ip : VM_USER_GW, ""))
        return -1;
    for (size_t i = 0; i < vm->ngopt; i++)
        if (push(vm, "%s%s", vm->gopt[i], ""))
            return -1;
    for (size_t i = from; i < vm->argc; i++)
        total += strlen(vm->argv[i]) + 1;
    if (total > VM_CMDLINE_MAX) {
        srv_vm_log("the boot arguments take %zu octets, more than %d", total, VM_CMDLINE_MAX);
        return -1;
    }
    vm->argv[vm->argc] = NULL;
    return 0;
}

static int write_image(vm_t *vm, const char *path, bool temporary)
{
    srv_vm_image_stats_t st;
    char why[PATH_MAX + 128];
    int fd;
    if (temporary) {
        const char *tmp = getenv("TMPDIR");
        snprintf(vm->image_path, sizeof vm->image_path, "%s/zonelet-vm.XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        fd = mkstemp(vm->image_path);
        if (fd < 0)
            vm->image_path[0] = '\0';
    } else {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    }
    if (fd < 0) {
        srv_vm_log("cannot create the block image: %s", strerror(errno));
        return -1;
    }
    int rc = srv_vm_image_write(vm->cfg.zones_dir, fd, &st, why, sizeof why);
    if (close(fd) && !rc) {
        snprintf(why, sizeof why, "cannot write the image: %s", strerror(errno));
        rc = -1;
    }
    if (rc)
        srv_vm_log("%s", why);
    else if (!temporary)
        srv_vm_log("%s: %u files, %llu octets", path, st.files, (unsigned long long)st.bytes);
    return rc;
}

/* hvt runs only on KVM: said before anything is set up (a TAP), with
 * the way out. */
static bool kvm_usable(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return true;
    }
    srv_vm_log("--target hvt needs KVM: /dev/kvm: %s (--target virtio runs without it, "
               "QEMU with TCG)", strerror(errno));
    return false;
}

static void vm_free(vm_t *vm)
{
    srv_vm_fwd_free(vm->fwd);
    tap_delete(vm);
    if (vm->image_path[0])
        unlink(vm->image_path);
    for (size_t i = 0; i < vm->argc; i++)
        free(vm->argv[i]);
    for (size_t i = 0; i < vm->ngopt; i++)
        free(vm->gopt[i]);
    free(vm);
}

int cmd_vm(int argc, char **argv)
{
    vm_t *vm = calloc(1, sizeof *vm);
    int rc = 1;
    if (!vm)
        return 1;
    /* What is left is the server's own argv ("vm" in argv[0]'s place). */
    char **sargv = argv;
    int sargc = vm_options(&vm->o, argc, argv);
    if (sargc < 0) {
        free(vm);
        return 2;
    }
    int parsed = srv_config_parse(&vm->cfg, sargc, sargv);
    if (parsed != 0) {
        if (parsed > 0)
            vm_usage(stdout);
        free(vm);
        return parsed > 0 ? 0 : 2;
    }
    vm->default_listen = true;
    for (int i = 1; i < sargc; i++)
        vm->default_listen = vm->default_listen && strncmp(sargv[i], "--listen", 8) != 0;
    if (srv_config_each(sargc, sargv, guest_option, vm)) {
        vm_free(vm);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a closed standard output must not skip the guest's stop */
    /* Before the forwarder's thread exists, so that it inherits the mask
     * and these signals reach srv_vm_run's signalfd only. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (vm->o.write_image) {
        rc = write_image(vm, vm->o.write_image, false) ? 1 : 0;
    } else if (!strcmp(vm->o.target, "hvt") && !kvm_usable()) {
        rc = 1;
    } else if (!write_image(vm, NULL, true) && !plan_network(vm) && !plan_command(vm)) {
        if (srv_vm_fwd_start(vm->fwd)) {
            srv_vm_log("cannot start the forwarder");
        } else {
            srv_vm_run_t run = {.argv = vm->argv, .probe = vm->probe,
                                .probe_len = vm->probe_len, .nprobe = vm->nprobe,
                                .boot_timeout_s = vm->o.boot_timeout};
            rc = srv_vm_run(&run);
        }
    }
    vm_free(vm);
    return rc;
}
