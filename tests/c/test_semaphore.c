/* Semaphores and permits through the C API, against the real control plane:
 * every semaphore and permit function, its success and its error codes. */
#include "testing.h"

static konductor_options holder_options(const char *holder, int64_t ttl_ms, int64_t timeout_ms) {
    konductor_options options = testing_options(holder, timeout_ms);
    options.ttl_ms = ttl_ms;
    return options;
}

static void create_get_list_delete(konductor_client *client) {
    char *json = NULL;
    REQUIRE_OK(konductor_client_create_semaphore(client, "api-quota", 2, 60000, &json));
    EXPECT_TRUE(json != NULL && strstr(json, "\"permits\":2") != NULL);
    EXPECT_TRUE(json != NULL && strstr(json, "\"ttl\":\"1m0s\"") != NULL);
    konductor_string_free(json);

    REQUIRE_OK(konductor_client_create_semaphore(client, "second", 1, 0, NULL));

    json = NULL;
    EXPECT_RESULT(KONDUCTOR_ALREADY_EXISTS, konductor_client_create_semaphore(client, "second", 1, 0, &json));
    EXPECT_TRUE(json == NULL); /* out-parameters are written only on success */
    EXPECT_TRUE(konductor_last_error_status() == 409);
    EXPECT_LAST_ERROR_CONTAINS("already exists");

    REQUIRE_OK(konductor_client_get(client, KONDUCTOR_KIND_SEMAPHORE, "api-quota", &json));
    EXPECT_TRUE(strstr(json, "\"name\":\"api-quota\"") != NULL);
    EXPECT_TRUE(strstr(json, "\"kind\":\"Semaphore\"") != NULL);
    konductor_string_free(json);
    EXPECT_STR_EQ("", konductor_last_error()); /* a success clears the last error */
    EXPECT_TRUE(konductor_last_error_status() == 0);

    REQUIRE_OK(konductor_client_list(client, KONDUCTOR_KIND_SEMAPHORE, &json));
    EXPECT_TRUE(json[0] == '[');
    EXPECT_TRUE(strstr(json, "\"api-quota\"") != NULL && strstr(json, "\"second\"") != NULL);
    konductor_string_free(json);

    json = NULL;
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_get(client, KONDUCTOR_KIND_SEMAPHORE, "missing", &json));
    EXPECT_TRUE(json == NULL);
    EXPECT_TRUE(konductor_last_error_status() == 404);
    EXPECT_LAST_ERROR_CONTAINS("missing");

    REQUIRE_OK(konductor_client_delete(client, KONDUCTOR_KIND_SEMAPHORE, "second"));
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_delete(client, KONDUCTOR_KIND_SEMAPHORE, "second"));
}

static void permit_accessors_renew_release(konductor_client *client) {
    konductor_options options = holder_options("c-holder-1", 5000, KONDUCTOR_WAIT_FOREVER);
    konductor_held *permit = NULL;
    REQUIRE_OK(konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "api-quota", &options, &permit));

    uint64_t token = 0;
    EXPECT_HELD(permit, "api-quota", "c-holder-1", 5000, &token);
    konductor_cancel *lost_signal = NULL;
    REQUIRE_OK(konductor_held_lost_cancel(permit, &lost_signal));
    bool triggered = true;
    REQUIRE_OK(konductor_cancel_is_triggered(lost_signal, &triggered));
    EXPECT_TRUE(!triggered);

    /* The same holder cannot take a second permit. */
    konductor_held *again = NULL;
    EXPECT_RESULT(KONDUCTOR_ALREADY_HELD, konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "api-quota", &options, &again));
    EXPECT_TRUE(again == NULL);

    /* A second holder fills the semaphore; a third finds it full. */
    konductor_options second = holder_options("c-holder-2", 5000, KONDUCTOR_WAIT_FOREVER);
    konductor_held *other = NULL;
    REQUIRE_OK(konductor_client_try_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "api-quota", &second, &other));
    uint64_t other_token = 0;
    REQUIRE_OK(konductor_held_token(other, &other_token));
    EXPECT_TRUE(other_token > token);

    konductor_options third = holder_options("c-holder-3", 5000, KONDUCTOR_WAIT_FOREVER);
    konductor_held *none = NULL;
    EXPECT_RESULT(KONDUCTOR_TIMEOUT, konductor_client_try_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "api-quota", &third, &none));
    third.timeout_ms = 300;
    int64_t started = testing_now_ms();
    EXPECT_RESULT(KONDUCTOR_TIMEOUT, konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "api-quota", &third, &none));
    int64_t waited = testing_now_ms() - started;
    EXPECT_TRUE(waited >= 290 && waited < 5000);
    EXPECT_TRUE(none == NULL);

    /* A triggered cancel handle stops the wait at once. */
    konductor_cancel *cancel = NULL;
    REQUIRE_OK(konductor_cancel_new(&cancel));
    REQUIRE_OK(konductor_cancel_trigger(cancel));
    REQUIRE_OK(konductor_cancel_trigger(cancel)); /* triggering twice is fine */
    third.timeout_ms = KONDUCTOR_WAIT_FOREVER;
    third.cancel = cancel;
    EXPECT_RESULT(KONDUCTOR_CANCELLED, konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "api-quota", &third, &none));
    konductor_cancel_free(cancel);

    REQUIRE_OK(konductor_held_renew(permit));
    REQUIRE_OK(konductor_held_release(permit));
    REQUIRE_OK(konductor_held_release(permit)); /* idempotent */
    EXPECT_RESULT(KONDUCTOR_LOST, konductor_held_renew(permit));
    EXPECT_LAST_ERROR_CONTAINS("released");
    bool lost = false;
    REQUIRE_OK(konductor_held_is_lost(permit, &lost));
    EXPECT_TRUE(lost);
    konductor_held_free(permit);
    konductor_cancel_free(lost_signal);

    /* The freed slot goes to the next acquirer, with a larger fencing token. */
    third.cancel = NULL;
    REQUIRE_OK(konductor_client_try_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "api-quota", &third, &none));
    uint64_t third_token = 0;
    REQUIRE_OK(konductor_held_token(none, &third_token));
    EXPECT_TRUE(third_token > other_token);
    konductor_held_free(none);  /* frees release what they still hold */
    konductor_held_free(other);
    konductor_held_free(NULL);

    konductor_held *p1 = NULL, *p2 = NULL;
    REQUIRE_OK(konductor_client_try_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "api-quota", &options, &p1));
    REQUIRE_OK(konductor_client_try_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "api-quota", &second, &p2));
    konductor_held_free(p1);
    konductor_held_free(p2);
}

static void expiry_and_auto_renewal(konductor_client *client) {
    REQUIRE_OK(konductor_client_create_semaphore(client, "short", 1, 0, NULL));

    /* Not renewed within its TTL, a permit is lost, and its lost signal fires. */
    konductor_options options = holder_options("c-expiring", 200, KONDUCTOR_WAIT_FOREVER);
    konductor_held *permit = NULL;
    REQUIRE_OK(konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "short", &options, &permit));
    konductor_cancel *lost_signal = NULL;
    REQUIRE_OK(konductor_held_lost_cancel(permit, &lost_signal));
    testing_sleep_ms(400);
    bool lost = false;
    REQUIRE_OK(konductor_held_is_lost(permit, &lost));
    EXPECT_TRUE(lost);
    EXPECT_RESULT(KONDUCTOR_LOST, konductor_held_renew(permit));
    EXPECT_LAST_ERROR_CONTAINS("TTL");
    bool triggered = false;
    REQUIRE_OK(konductor_cancel_is_triggered(lost_signal, &triggered));
    EXPECT_TRUE(triggered);
    konductor_held_free(permit);
    konductor_cancel_free(lost_signal);

    /* With auto_renew the permit outlives its TTL several times over. */
    options = holder_options("c-renewing", 1500, KONDUCTOR_WAIT_FOREVER);
    options.auto_renew = true;
    REQUIRE_OK(konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "short", &options, &permit));
    testing_sleep_ms(3500);
    REQUIRE_OK(konductor_held_is_lost(permit, &lost));
    EXPECT_TRUE(!lost);
    REQUIRE_OK(konductor_held_renew(permit));

    /* Deleting the semaphore takes the permit away. */
    REQUIRE_OK(konductor_client_delete(client, KONDUCTOR_KIND_SEMAPHORE, "short"));
    EXPECT_RESULT(KONDUCTOR_LOST, konductor_held_renew(permit));
    REQUIRE_OK(konductor_held_release(permit)); /* releasing a deleted object's permit is fine */
    konductor_held_free(permit);

    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "short", &options, &permit));
}

struct with_record {
    int calls;
    uint64_t token;
    char holder[64];
    int return_value;
};

static int record_permit(const konductor_held *permit, void *user_data) {
    struct with_record *record = user_data;
    record->calls++;
    const char *holder = NULL;
    if (konductor_held_token(permit, &record->token) != KONDUCTOR_OK ||
        konductor_held_holder(permit, &holder) != KONDUCTOR_OK) {
        return 99;
    }
    snprintf(record->holder, sizeof record->holder, "%s", holder);
    return record->return_value;
}

static void with_callback(konductor_client *client) {
    REQUIRE_OK(konductor_client_create_semaphore(client, "with-me", 1, 0, NULL));
    konductor_options options = holder_options("c-with", 0, 2000);

    struct with_record record = {0};
    REQUIRE_OK(konductor_client_with(client, KONDUCTOR_KIND_SEMAPHORE, "with-me", &options, record_permit, &record));
    EXPECT_TRUE(record.calls == 1);
    EXPECT_TRUE(record.token >= 1);
    EXPECT_STR_EQ("c-with", record.holder);

    /* A failing callback is reported, and the permit is released all the same. */
    record.return_value = 7;
    EXPECT_RESULT(KONDUCTOR_CALLBACK_FAILED,
                  konductor_client_with(client, KONDUCTOR_KIND_SEMAPHORE, "with-me", &options, record_permit, &record));
    EXPECT_TRUE(record.calls == 2);
    EXPECT_LAST_ERROR_CONTAINS("returned 7");
    konductor_held *permit = NULL;
    options.timeout_ms = 0;
    REQUIRE_OK(konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "with-me", &options, &permit));
    konductor_held_free(permit);

    /* When the acquire fails the callback does not run. */
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND,
                  konductor_client_with(client, KONDUCTOR_KIND_SEMAPHORE, "no-such", &options, record_permit, &record));
    EXPECT_TRUE(record.calls == 2);
    EXPECT_RESULT(KONDUCTOR_NULL_ARGUMENT, konductor_client_with(client, KONDUCTOR_KIND_SEMAPHORE, "with-me", &options, NULL, NULL));

    /* NULL options mean the defaults: a generated holder, waiting without limit. */
    record.return_value = 0;
    REQUIRE_OK(konductor_client_with(client, KONDUCTOR_KIND_SEMAPHORE, "with-me", NULL, record_permit, &record));
    EXPECT_TRUE(record.calls == 3);
    EXPECT_TRUE(strlen(record.holder) > 0 && strcmp(record.holder, "c-with") != 0);
}

/* Sleeps past the permit's TTL without renewing it. */
static int outlive_permit(const konductor_held *permit, void *user_data) {
    (void)permit;
    (void)user_data;
    testing_sleep_ms(800);
    return 0;
}

static void with_reports_a_permit_lost_while_the_callback_ran(konductor_client *client) {
    REQUIRE_OK(konductor_client_create_semaphore(client, "with-lost", 1, 0, NULL));
    konductor_options options = holder_options("c-slow", 300, 5000);
    EXPECT_RESULT(KONDUCTOR_LOST,
                  konductor_client_with(client, KONDUCTOR_KIND_SEMAPHORE, "with-lost", &options, outlive_permit, NULL));
    EXPECT_LAST_ERROR_CONTAINS("its TTL passed before it was renewed");
}

/* A program compiled against the first version of konductor_options passes
 * a struct that ends with its last field (auto_renew); a later library reads
 * no further than struct_size. The struct is allocated to exactly that size,
 * so valgrind reports any read past it. */
static void options_of_an_older_caller(konductor_client *client) {
    REQUIRE_OK(konductor_client_create_semaphore(client, "old-caller", 1, 0, NULL));
    konductor_options current = holder_options("c-old-caller", 5000, 0);
    size_t first_version_size = offsetof(konductor_options, auto_renew) + sizeof current.auto_renew;
    konductor_options *truncated = malloc(first_version_size);
    if (truncated == NULL) {
        testing_finish("test_semaphore");
    }
    memcpy(truncated, &current, first_version_size);
    truncated->struct_size = (uint32_t)first_version_size;

    konductor_held *permit = NULL;
    REQUIRE_OK(konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "old-caller", truncated, &permit));
    const char *holder = NULL;
    REQUIRE_OK(konductor_held_holder(permit, &holder));
    EXPECT_STR_EQ("c-old-caller", holder);
    int64_t ttl_ms = 0;
    REQUIRE_OK(konductor_held_ttl_ms(permit, &ttl_ms));
    EXPECT_TRUE(ttl_ms == 5000);
    REQUIRE_OK(konductor_held_release(permit));
    konductor_held_free(permit);
    free(truncated);
}

int main(void) {
    konductor_client *client = testing_client();
    create_get_list_delete(client);
    permit_accessors_renew_release(client);
    expiry_and_auto_renewal(client);
    with_callback(client);
    with_reports_a_permit_lost_while_the_callback_ran(client);
    options_of_an_older_caller(client);
    konductor_client_free(client);
    testing_finish("test_semaphore");
}
