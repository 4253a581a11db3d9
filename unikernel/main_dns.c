/* main() of the DNS-only appliance image (build/uk/zonelet-dns.*): the
 * server and nothing else; the commands of unikernel/main.c (check,
 * notify, vm, certify) are tools for a host and stay out of it. */
#include "unikernel/cmd.h"

int main(int argc, char **argv)
{
    return cmd_serve(argc, argv);
}
