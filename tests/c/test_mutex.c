/* Mutexes through the C API, against the real control plane: create, lock,
 * the busy code naming the holder, fencing across holders, with-callback,
 * and a mutex as a gate condition. */
#include "testing.h"

static void create_lock_unlock(konductor_client *client) {
    char *json = NULL;
    REQUIRE_OK(konductor_client_create_mutex(client, "migrate", 30000, KONDUCTOR_PRIORITY_DEFAULT, &json));
    EXPECT_TRUE(strstr(json, "\"kind\":\"Mutex\"") != NULL);
    EXPECT_TRUE(strstr(json, "\"ttl\":\"30s\"") != NULL);
    konductor_string_free(json);
    EXPECT_RESULT(KONDUCTOR_ALREADY_EXISTS,
                  konductor_client_create_mutex(client, "migrate", 0, KONDUCTOR_PRIORITY_DEFAULT, NULL));
    EXPECT_RESULT(KONDUCTOR_INVALID_DURATION,
                  konductor_client_create_mutex(client, "bad-ttl", -5, KONDUCTOR_PRIORITY_DEFAULT, NULL));

    konductor_options a = testing_options("c-mutex-a", KONDUCTOR_WAIT_FOREVER);
    konductor_held *lock = NULL;
    REQUIRE_OK(konductor_client_acquire(client, KONDUCTOR_KIND_MUTEX, "migrate", &a, &lock));
    uint64_t token_a = 0;
    EXPECT_HELD(lock, "migrate", "c-mutex-a", 30000, &token_a);

    REQUIRE_OK(konductor_client_get(client, KONDUCTOR_KIND_MUTEX, "migrate", &json));
    EXPECT_TRUE(strstr(json, "\"holder\":\"c-mutex-a\"") != NULL);
    konductor_string_free(json);

    /* Someone else finds it locked, by whom in the last error. */
    konductor_options b = testing_options("c-mutex-b", KONDUCTOR_WAIT_FOREVER);
    konductor_held *other = NULL;
    EXPECT_RESULT(KONDUCTOR_LOCKED, konductor_client_try_acquire(client, KONDUCTOR_KIND_MUTEX, "migrate", &b, &other));
    EXPECT_LAST_ERROR_CONTAINS("c-mutex-a");
    EXPECT_TRUE(other == NULL);
    b.timeout_ms = 300;
    EXPECT_RESULT(KONDUCTOR_TIMEOUT, konductor_client_acquire(client, KONDUCTOR_KIND_MUTEX, "migrate", &b, &other));

    REQUIRE_OK(konductor_held_release(lock));
    konductor_held_free(lock);
    REQUIRE_OK(konductor_client_try_acquire(client, KONDUCTOR_KIND_MUTEX, "migrate", &b, &other));
    uint64_t token_b = 0;
    REQUIRE_OK(konductor_held_token(other, &token_b));
    EXPECT_TRUE(token_b > token_a);
    konductor_held_free(other);

    REQUIRE_OK(konductor_client_list(client, KONDUCTOR_KIND_MUTEX, &json));
    EXPECT_TRUE(strstr(json, "\"migrate\"") != NULL);
    konductor_string_free(json);
    REQUIRE_OK(konductor_client_delete(client, KONDUCTOR_KIND_MUTEX, "migrate"));
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_acquire(client, KONDUCTOR_KIND_MUTEX, "migrate", &a, &lock));
}

static int count_call(const konductor_held *lock, void *user_data) {
    (void)lock;
    (*(int *)user_data)++;
    return 0;
}

static void with_callback(konductor_client *client) {
    REQUIRE_OK(konductor_client_create_mutex(client, "section", 0, KONDUCTOR_PRIORITY_DEFAULT, NULL));
    konductor_options options = testing_options("c-mutex-with", 2000);
    int calls = 0;
    REQUIRE_OK(konductor_client_with(client, KONDUCTOR_KIND_MUTEX, "section", &options, count_call, &calls));
    REQUIRE_OK(konductor_client_with(client, KONDUCTOR_KIND_MUTEX, "section", &options, count_call, &calls));
    EXPECT_TRUE(calls == 2);
}

static void as_gate_condition(konductor_client *client) {
    konductor_gate_condition condition = {
        .kind = KONDUCTOR_CONDITION_MUTEX, .name = "section", .state = "Unlocked"};
    REQUIRE_OK(konductor_client_create_gate(client, "after-section", &condition, 1, 0, NULL));
    char *json = NULL;
    REQUIRE_OK(konductor_client_get(client, KONDUCTOR_KIND_GATE, "after-section", &json));
    EXPECT_TRUE(strstr(json, "\"type\":\"Mutex\"") != NULL);
    konductor_string_free(json);
}

int main(void) {
    konductor_client *client = testing_client();
    create_lock_unlock(client);
    with_callback(client);
    as_gate_condition(client);
    konductor_client_free(client);
    testing_finish("test_mutex");
}
