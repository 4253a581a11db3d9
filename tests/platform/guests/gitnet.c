/* gitnet: libgit2 over the runtime's sockets: clone url=git://HOST:PORT/
 * REPO into the in-memory file system (libgit2's git:// transport:
 * getaddrinfo, a blocking connect, send and recv), then print HEAD and the
 * first line of file=NAME from the work tree. Network configuration comes
 * from the runtime's boot arguments. */
#include <git2.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

#define OK(call)                                                                   \
    do {                                                                           \
        int rc_ = (call);                                                          \
        if (rc_ < 0) {                                                             \
            const git_error *e_ = git_error_last();                                \
            printf("FAILURE: %s: %d %s\n", #call, rc_, e_ ? e_->message : "");      \
            return 1;                                                              \
        }                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    const char *url = NULL, *file = NULL;
    git_repository *repo;
    git_reference *head;
    char id[GIT_OID_HEXSZ + 1], path[256], line[256] = "";

    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "url=", 4) == 0)
            url = argv[i] + 4;
        else if (strncmp(argv[i], "file=", 5) == 0)
            file = argv[i] + 5;
    }
    CHECK(url && file);
    CHECK(git_libgit2_init() > 0);
    OK(git_clone(&repo, url, "/clone", NULL));
    OK(git_repository_head(&head, repo));
    git_oid_tostr(id, sizeof id, git_reference_target(head));
    printf("HEAD %s\n", id);
    snprintf(path, sizeof path, "/clone/%s", file);
    FILE *f = fopen(path, "r");
    CHECK(f && fgets(line, sizeof line, f));
    fclose(f);
    printf("%s: %s", file, line);
    git_reference_free(head);
    git_repository_free(repo);
    git_libgit2_shutdown();
    printf("SUCCESS\n");
    return 0;
}
