/* check.h: the one assertion helper the guests share. A failed CHECK
 * prints FAILURE with the line and condition and exits non-zero, so the
 * runner sees SUCCESS only when every check held. */
#ifndef ZL_GUEST_CHECK_H
#define ZL_GUEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("FAILURE: %s:%d: %s\n", __FILE__, __LINE__, #cond);       \
            fflush(stdout);                                                  \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#endif
