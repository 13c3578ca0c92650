/* RWMutexes through the C API, against the real control plane: readers
 * share, a writer waits for them, the busy code, fencing, bad modes. */
#include "testing.h"

static void readers_share_a_writer_excludes(konductor_client *client) {
    char *json = NULL;
    REQUIRE_OK(konductor_client_create_rwmutex(client, "cache", 30000, KONDUCTOR_PRIORITY_DEFAULT, 0, &json));
    EXPECT_TRUE(strstr(json, "\"kind\":\"RWMutex\"") != NULL);
    konductor_string_free(json);
    EXPECT_RESULT(KONDUCTOR_ALREADY_EXISTS,
                  konductor_client_create_rwmutex(client, "cache", 0, KONDUCTOR_PRIORITY_DEFAULT, 0, NULL));
    EXPECT_RESULT(KONDUCTOR_INVALID_COUNT,
                  konductor_client_create_rwmutex(client, "huge", 0, KONDUCTOR_PRIORITY_DEFAULT, 20000, NULL));

    konductor_options a = testing_options("c-reader-a", KONDUCTOR_WAIT_FOREVER);
    konductor_options b = testing_options("c-reader-b", KONDUCTOR_WAIT_FOREVER);
    konductor_options w = testing_options("c-writer", 300);
    konductor_held *reader_a = NULL, *reader_b = NULL, *writer = NULL;
    REQUIRE_OK(konductor_client_lock_rwmutex(client, "cache", KONDUCTOR_LOCK_READ, &a, &reader_a));
    REQUIRE_OK(konductor_client_try_lock_rwmutex(client, "cache", KONDUCTOR_LOCK_READ, &b, &reader_b));
    EXPECT_RESULT(KONDUCTOR_LOCKED, konductor_client_try_lock_rwmutex(client, "cache", KONDUCTOR_LOCK_WRITE, &w, &writer));
    EXPECT_LAST_ERROR_CONTAINS("c-reader");
    EXPECT_RESULT(KONDUCTOR_TIMEOUT, konductor_client_lock_rwmutex(client, "cache", KONDUCTOR_LOCK_WRITE, &w, &writer));
    EXPECT_TRUE(writer == NULL);

    uint64_t token_b = 0, token_w = 0;
    REQUIRE_OK(konductor_held_token(reader_b, &token_b));
    REQUIRE_OK(konductor_held_release(reader_a));
    REQUIRE_OK(konductor_held_release(reader_b));
    konductor_held_free(reader_a);
    konductor_held_free(reader_b);
    REQUIRE_OK(konductor_client_try_lock_rwmutex(client, "cache", KONDUCTOR_LOCK_WRITE, &w, &writer));
    REQUIRE_OK(konductor_held_token(writer, &token_w));
    EXPECT_TRUE(token_w > token_b);
    EXPECT_RESULT(KONDUCTOR_LOCKED, konductor_client_try_lock_rwmutex(client, "cache", KONDUCTOR_LOCK_READ, &a, &reader_a));
    konductor_held_free(writer);

    REQUIRE_OK(konductor_client_get(client, KONDUCTOR_KIND_RWMUTEX, "cache", &json));
    EXPECT_TRUE(strstr(json, "\"phase\":\"Unlocked\"") != NULL);
    konductor_string_free(json);
    EXPECT_RESULT(KONDUCTOR_INVALID_ARGUMENT, konductor_client_lock_rwmutex(client, "cache", 0, &a, &reader_a));
    EXPECT_RESULT(KONDUCTOR_INVALID_ARGUMENT, konductor_client_lock_rwmutex(client, "cache", 3, &a, &reader_a));
    EXPECT_RESULT(KONDUCTOR_INVALID_ARGUMENT, konductor_client_acquire(client, KONDUCTOR_KIND_RWMUTEX, "cache", &a, &reader_a));
    EXPECT_RESULT(KONDUCTOR_NULL_ARGUMENT, konductor_client_lock_rwmutex(client, "cache", KONDUCTOR_LOCK_READ, &a, NULL));
    REQUIRE_OK(konductor_client_delete(client, KONDUCTOR_KIND_RWMUTEX, "cache"));
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_lock_rwmutex(client, "cache", KONDUCTOR_LOCK_READ, &a, &reader_a));
}

int main(void) {
    konductor_client *client = testing_client();
    readers_share_a_writer_excludes(client);
    konductor_client_free(client);
    testing_finish("test_rwmutex");
}
