/* Limits concurrent work with a Konductor semaphore.
 * Build: cc -std=c11 semaphore.c $(pkg-config --cflags --libs konductor)
 * Run:   ./a.out [namespace]   (uses $KUBECONFIG or the in-cluster account) */
#include <inttypes.h>
#include <stdio.h>

#include <konductor.h>

/* Prints what failed and why; returns 1 for use as an exit status. */
static int report(const char *what, konductor_result result) {
    fprintf(stderr, "%s: %s: %s\n", what, konductor_result_name(result), konductor_last_error());
    return 1;
}

/* The work to do while holding a permit, run by konductor_client_with(). */
static int render(const konductor_held *permit, void *user_data) {
    uint64_t token = 0;
    konductor_held_token(permit, &token);
    printf("rendering %s with fencing token %" PRIu64 "\n", (const char *)user_data, token);
    return 0;
}

int main(int argc, char **argv) {
    konductor_client *client = NULL;
    konductor_result result = konductor_client_new(argc > 1 ? argv[1] : NULL, &client);
    if (result != KONDUCTOR_OK) {
        return report("connecting", result);
    }

    /* Two permits; a permit not renewed within 30 s is reclaimed. */
    result = konductor_client_create_semaphore(client, "render-slots", 2, 30000, NULL);
    if (result != KONDUCTOR_OK && result != KONDUCTOR_ALREADY_EXISTS) {
        konductor_client_free(client);
        return report("creating the semaphore", result);
    }

    konductor_options options;
    konductor_options_init(&options);
    options.timeout_ms = 10000; /* give up after 10 s; KONDUCTOR_WAIT_FOREVER waits */

    /* Explicit acquire and release. */
    konductor_held *permit = NULL;
    result = konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "render-slots", &options, &permit);
    if (result != KONDUCTOR_OK) {
        konductor_client_free(client);
        return report("acquiring a permit", result);
    }
    const char *holder = NULL;
    uint64_t token = 0;
    konductor_held_holder(permit, &holder);
    konductor_held_token(permit, &token);
    printf("%s holds a permit, fencing token %" PRIu64 "\n", holder, token);
    result = konductor_held_release(permit);
    konductor_held_free(permit); /* frees release too; release first to see errors */
    if (result != KONDUCTOR_OK) {
        konductor_client_free(client);
        return report("releasing the permit", result);
    }

    /* The same around a callback: released whatever the callback returns. */
    result = konductor_client_with(client, KONDUCTOR_KIND_SEMAPHORE, "render-slots", &options, render, "frame 42");
    if (result != KONDUCTOR_OK) {
        konductor_client_free(client);
        return report("rendering", result);
    }

    result = konductor_client_delete(client, KONDUCTOR_KIND_SEMAPHORE, "render-slots");
    konductor_client_free(client);
    return result == KONDUCTOR_OK ? 0 : report("deleting the semaphore", result);
}
