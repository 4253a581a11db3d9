/* The zonelet program's sub-commands (dispatched by main.c). */
#ifndef ZL_UNIKERNEL_CMD_H
#define ZL_UNIKERNEL_CMD_H

/* `zonelet check FILE...`: parse and validate zone files, print errors as
 * `file:line: message`, exit status 1 on any error (unikernel/check.c). */
int cmd_check(int argc, char **argv);

/* `zonelet [--zones DIR] [--listen ADDR:PORT]... [options]`: serve
 * (unikernel/serve.c). */
int cmd_serve(int argc, char **argv);

/* `zonelet notify --server ADDR:PORT [--key NAME:ALG:BASE64] ZONE`: one
 * signed NOTIFY, the answer printed, exit 0 on NOERROR (notify_cmd.c). */
int cmd_notify(int argc, char **argv);

/* `zonelet vm [--target virtio|hvt] [vm options] [server options]`: the
 * appliance image in a virtual machine with this server's interface
 * (unikernel/vm.c; `zonelet vm --help`). Exit status: 0 after SIGTERM or
 * SIGINT stopped the guest, 2 on bad options, 1 when it cannot start or
 * the guest does not answer in time, else the monitor's status when the
 * guest ends by itself. */
int cmd_vm(int argc, char **argv);

/* `zonelet certify --server ADDR:PORT --key NAME:ALG:BASE64 --name HOST
 * [--name HOST...] --out DIR [--wait SECONDS]`: a key, a CSR submitted
 * by signed UPDATE, the certificate the server's ACME client stores
 * waited for, and key.pem, cert.pem, chain.pem written (certify_cmd.c). */
int cmd_certify(int argc, char **argv);

#endif
