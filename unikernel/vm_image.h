/* The block image `zonelet vm` gives the appliance: a POSIX.1-1988
 * ustar archive of what the directory store reads from a zones
 * directory (unikernel/store_dir.h), which the guest's runtime unpacks
 * before main() (boot argument --block-tar=DIR, platform/runtime/rt.h).
 *
 * In the archive, with names relative to the directory:
 *  - every regular file directly in it whose name does not start with a
 *    dot (a symlink counts as what it points to), as the store does;
 *  - the journals of changes not yet written into the zone files
 *    (.zonelet/<file>.journal), so the guest serves what the hosted
 *    server would.
 * Sub-folders, other dotfiles and special files are left out (the store
 * ignores them too). Sizes and modes as on disk, owner 0, mtime kept.
 */
#ifndef ZL_UNIKERNEL_VM_IMAGE_H
#define ZL_UNIKERNEL_VM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct srv_vm_image_stats {
    unsigned files;          /* entries written (directories included) */
    uint64_t bytes;          /* the archive's size, a multiple of 512 */
} srv_vm_image_stats_t;

/* Writes the archive of dir (borrowed) to fd from its current offset
 * (fd borrowed, not closed). Returns 0 with *stats filled, or -1 with a
 * one-line reason in why[0..cap): dir unreadable, a file that changed
 * size while read, a name too long for ustar (more than 100 octets after
 * the directory prefix), a file over 8 GiB, a write error. */
int srv_vm_image_write(const char *dir, int fd, srv_vm_image_stats_t *stats, char *why,
                       size_t cap);

#endif
