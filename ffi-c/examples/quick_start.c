/* Quick start: hold a permit of a Konductor semaphore (the README's C example).
 * Build: cc -std=c11 quick_start.c $(pkg-config --cflags --libs konductor)
 * Run:   ./a.out [namespace]   (uses $KUBECONFIG or the in-cluster account) */
#include <inttypes.h>
#include <stdio.h>

#include <konductor.h>

int main(int argc, char **argv) {
    konductor_client *client = NULL;
    konductor_held *permit = NULL;
    uint64_t token = 0;
    konductor_result result = konductor_client_new(argc > 1 ? argv[1] : NULL, &client);
    if (result == KONDUCTOR_OK) { /* two permits; one not renewed within 30 s is reclaimed */
        result = konductor_client_create_semaphore(client, "api-quota", 2, 30000, NULL);
    }
    if (result == KONDUCTOR_OK || result == KONDUCTOR_ALREADY_EXISTS) { /* NULL options: wait */
        result = konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "api-quota", NULL, &permit);
    }
    if (result == KONDUCTOR_OK) {
        konductor_held_token(permit, &token);
        printf("holding a permit of api-quota, fencing token %" PRIu64 "\n", token);
        result = konductor_held_release(permit);
        konductor_held_free(permit);
    }
    if (result != KONDUCTOR_OK) {
        fprintf(stderr, "%s: %s\n", konductor_result_name(result), konductor_last_error());
    }
    konductor_client_free(client);
    return result == KONDUCTOR_OK ? 0 : 1;
}
