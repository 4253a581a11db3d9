/* files: the in-memory file system through ordinary POSIX and stdio
 * calls: create, write, read, seek, append, truncate, rename, link,
 * unlink, directories and their listing, symlinks, cwd, devices. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

static void basic_io(void)
{
    char buf[64];
    struct stat st;
    int fd = open("/data/a.txt", O_CREAT | O_EXCL | O_RDWR, 0644);

    CHECK(fd >= 3);
    CHECK(write(fd, "hello, world", 12) == 12);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(read(fd, buf, sizeof buf) == 12 && !memcmp(buf, "hello, world", 12));
    CHECK(read(fd, buf, sizeof buf) == 0);
    CHECK(pwrite(fd, "W", 1, 7) == 1);
    CHECK(pread(fd, buf, 5, 7) == 5 && !memcmp(buf, "World", 5));
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 12);
    CHECK((st.st_mode & 0777) == 0644);
    /* A write past the end leaves a zero-filled hole. */
    CHECK(pwrite(fd, "!", 1, 20) == 1);
    CHECK(pread(fd, buf, 9, 12) == 9 && buf[0] == 0 && buf[7] == 0 && buf[8] == '!');
    CHECK(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5);
    CHECK(close(fd) == 0);
    CHECK(close(fd) == -1 && errno == EBADF);
    CHECK(open("/data/a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644) == -1 && errno == EEXIST);
    CHECK(open("/data/missing", O_RDONLY) == -1 && errno == ENOENT);
    CHECK(open("/data/a.txt/x", O_RDONLY) == -1 && errno == ENOTDIR);

    fd = open("/data/a.txt", O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && write(fd, "+tail", 5) == 5 && close(fd) == 0);
    CHECK(stat("/data/a.txt", &st) == 0 && st.st_size == 10);
    fd = open("/data/a.txt", O_RDONLY);
    CHECK(read(fd, buf, sizeof buf) == 10 && !memcmp(buf, "hello+tail", 10));
    CHECK(write(fd, "x", 1) == -1 && errno == EBADF);
    close(fd);
    fd = open("/data/a.txt", O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0);
    close(fd);
}

static void stdio_and_big(void)
{
    char line[128];
    FILE *f = fopen("/data/log.txt", "w");

    CHECK(f != NULL);
    for (int i = 0; i < 1000; i++)
        fprintf(f, "line %d %f\n", i, i * 0.5);
    CHECK(fclose(f) == 0);
    f = fopen("/data/log.txt", "r");
    CHECK(f != NULL);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char want[64];
        snprintf(want, sizeof want, "line %d %f\n", n, n * 0.5);
        CHECK(!strcmp(line, want));
        n++;
    }
    CHECK(n == 1000 && fclose(f) == 0);

    /* A private file mapping sees the contents. */
    int fd = open("/data/log.txt", O_RDONLY);
    char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED && !memcmp(m, "line 0 0.000000\nline 1", 22));
    munmap(m, 4096);
    close(fd);
}

static int list(const char *path, const char *want[], int nwant)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int seen = 0, n = 0;

    CHECK(d != NULL);
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        for (int i = 0; i < nwant; i++)
            if (!strcmp(e->d_name, want[i]))
                seen++;
    }
    closedir(d);
    return n == nwant && seen == nwant;
}

static void names(void)
{
    struct stat st;
    char buf[256];

    CHECK(mkdir("/data/sub", 0755) == 0);
    CHECK(mkdir("/data/sub", 0755) == -1 && errno == EEXIST);
    CHECK(close(open("/data/sub/one", O_CREAT | O_WRONLY, 0600)) == 0);
    CHECK(close(open("/data/sub/two", O_CREAT | O_WRONLY, 0600)) == 0);
    const char *three[] = {"a.txt", "log.txt", "sub"};
    CHECK(list("/data", three, 3));
    CHECK(rename("/data/sub/one", "/data/sub/uno") == 0);
    CHECK(access("/data/sub/one", F_OK) == -1 && errno == ENOENT);
    CHECK(access("/data/sub/uno", R_OK | W_OK) == 0);
    /* rename over an existing file replaces it. */
    CHECK(rename("/data/sub/uno", "/data/sub/two") == 0);
    const char *one[] = {"two"};
    CHECK(list("/data/sub", one, 1));
    CHECK(link("/data/sub/two", "/data/sub/deux") == 0);
    CHECK(stat("/data/sub/two", &st) == 0 && st.st_nlink == 2);
    CHECK(unlink("/data/sub/two") == 0);
    CHECK(stat("/data/sub/deux", &st) == 0 && st.st_nlink == 1);
    CHECK(rmdir("/data/sub") == -1 && errno == ENOTEMPTY);
    CHECK(unlink("/data/sub") == -1 && errno == EISDIR);
    CHECK(rename("/data", "/data/sub/x") == -1 && errno == EINVAL);
    /* An unlinked file stays readable through its open descriptor. */
    int fd = open("/data/sub/deux", O_RDWR);
    CHECK(fd >= 0 && write(fd, "ghost", 5) == 5);
    CHECK(unlink("/data/sub/deux") == 0);
    CHECK(pread(fd, buf, 5, 0) == 5 && !memcmp(buf, "ghost", 5));
    close(fd);
    CHECK(rmdir("/data/sub") == 0);
    /* Directories move with their contents. */
    CHECK(mkdir("/data/d1", 0755) == 0 && mkdir("/data/d1/inner", 0755) == 0);
    CHECK(rename("/data/d1", "/data/d2") == 0);
    CHECK(stat("/data/d2/inner", &st) == 0 && S_ISDIR(st.st_mode));

    CHECK(symlink("d2/inner", "/data/ln") == 0);
    CHECK(readlink("/data/ln", buf, sizeof buf) == 8 && !memcmp(buf, "d2/inner", 8));
    CHECK(stat("/data/ln", &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(lstat("/data/ln", &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(close(open("/data/ln/f", O_CREAT | O_WRONLY, 0644)) == 0);
    CHECK(access("/data/d2/inner/f", F_OK) == 0);

    CHECK(chdir("/data/d2") == 0);
    CHECK(getcwd(buf, sizeof buf) && !strcmp(buf, "/data/d2"));
    CHECK(access("inner/f", F_OK) == 0 && access("../a.txt", F_OK) == 0);
    CHECK(chdir("/") == 0 && getcwd(buf, sizeof buf) && !strcmp(buf, "/"));
    CHECK(chmod("/data/a.txt", 0600) == 0 && stat("/data/a.txt", &st) == 0 &&
          (st.st_mode & 0777) == 0600);
}

/* The *at() forms relative to a directory descriptor, vector I/O, times. */
static void at_calls(void)
{
    struct stat st;
    char a[4], b[6];
    struct iovec w[2] = {{"abcd", 4}, {"efghij", 6}}, r[2] = {{a, 4}, {b, 6}};
    int dfd = open("/data/d2", O_RDONLY | O_DIRECTORY);

    CHECK(dfd >= 0);
    int fd = openat(dfd, "v.bin", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0 && writev(fd, w, 2) == 10 && fsync(fd) == 0);
    CHECK(lseek(fd, 0, SEEK_SET) == 0 && readv(fd, r, 2) == 10);
    CHECK(!memcmp(a, "abcd", 4) && !memcmp(b, "efghij", 6));
    CHECK(fstatat(dfd, "v.bin", &st, 0) == 0 && st.st_size == 10);
    CHECK(faccessat(dfd, "inner", F_OK, 0) == 0);
    CHECK(mkdirat(dfd, "made", 0700) == 0);
    CHECK(renameat(dfd, "made", dfd, "moved") == 0);
    CHECK(unlinkat(dfd, "moved", AT_REMOVEDIR) == 0);
    struct timespec ts[2] = {{1000, 0}, {2000, 500}};
    CHECK(utimensat(dfd, "v.bin", ts, 0) == 0 && fstat(fd, &st) == 0);
    CHECK(st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 2000 && st.st_mtim.tv_nsec == 500);
    CHECK(open("/data/d2", O_WRONLY) == -1 && errno == EISDIR);
    CHECK(unlinkat(dfd, "v.bin", 0) == 0 && fstat(fd, &st) == 0 && st.st_nlink == 0);
    close(fd);
    close(dfd);
}

static void devices(void)
{
    unsigned char r[32] = {0};
    int fd = open("/dev/urandom", O_RDONLY), nz = 0;

    CHECK(fd >= 0 && read(fd, r, sizeof r) == sizeof r);
    for (size_t i = 0; i < sizeof r; i++)
        nz += r[i] != 0;
    CHECK(nz > 16);
    close(fd);
    fd = open("/dev/null", O_RDWR);
    CHECK(fd >= 0 && write(fd, r, 5) == 5 && read(fd, r, 5) == 0);
    CHECK(dup2(fd, 9) == 9 && (fcntl(9, F_GETFL) & O_ACCMODE) == O_RDWR);
    CHECK(fcntl(9, F_SETFD, FD_CLOEXEC) == 0 && fcntl(9, F_GETFD) == FD_CLOEXEC);
    close(9);
    close(fd);
    CHECK(write(2, "", 0) == 0);
}

int main(void)
{
    CHECK(mkdir("/data", 0755) == 0);
    basic_io();
    stdio_and_big();
    names();
    at_calls();
    devices();
    printf("SUCCESS\n");
    return 0;
}
