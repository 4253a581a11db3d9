#include <string.h>

#include "unikernel/cmd.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "notify") == 0)
        return cmd_notify(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "vm") == 0)
        return cmd_vm(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "certify") == 0)
        return cmd_certify(argc - 1, argv + 1);
    return cmd_serve(argc, argv);
}
