/* Bad input through the C API: NULL handles, strings and out-parameters,
 * invalid UTF-8, bad and over-long names, zero and negative counts, negative
 * and too short durations, uninitialised options. Each gets its documented
 * code and a message, no out-parameter is written, and nothing reaches the
 * API server (the namespace stays empty). */
#include "testing.h"

/* Checks one row of the table: the code, a message naming the problem, no
 * HTTP status (nothing was sent). */
static void check_case(konductor_result expected, konductor_result actual, const char *call, int line) {
    if (!testing_expect_result(expected, actual, call, __FILE__, line)) {
        return;
    }
    testing_checks++;
    if (konductor_last_error()[0] == '\0' || konductor_last_error_status() != 0) {
        fprintf(stderr, "%s:%d: FAILED: %s: expected a message and no HTTP status, got \"%s\" (%u)\n",
                __FILE__, line, call, konductor_last_error(), (unsigned)konductor_last_error_status());
        testing_failures++;
    }
}

#define CASE(expected, call) check_case((expected), (call), #call, __LINE__)

static konductor_client *client;
static konductor_options options;
static konductor_cancel *cancel;
static konductor_held *held_out;
static konductor_client *client_out;
static char *json_out;
static const char *string_out;
static bool bool_out;
static uint64_t u64_out;
static int64_t i64_out;
static size_t len_out;
static konductor_gate_condition_status *statuses_out;

static int callback_held(const konductor_held *held, void *user_data) {
    (void)held;
    (void)user_data;
    return 0;
}

static int callback_leader(const konductor_leadership *leadership, void *user_data) {
    (void)leadership;
    (void)user_data;
    return 0;
}

static int callback_barrier(void *user_data) {
    (void)user_data;
    return 0;
}

static void null_handles(void) {
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_options_init(NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_cancel_new(NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_cancel_trigger(NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_cancel_is_triggered(NULL, &bool_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_namespace(NULL, &string_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_in_namespace(NULL, "x", &client_out));

    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_get(NULL, KONDUCTOR_KIND_SEMAPHORE, "s", &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_list(NULL, KONDUCTOR_KIND_LEASE, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_delete(NULL, KONDUCTOR_KIND_BARRIER, "b"));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_wait(NULL, KONDUCTOR_KIND_GATE, "g", &options));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_create_semaphore(NULL, "s", 1, 0, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_create_lease(NULL, "l", 0, KONDUCTOR_PRIORITY_DEFAULT, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_create_barrier(NULL, "b", 1, 0, 0, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_create_gate(NULL, "g", NULL, 0, 0, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_acquire(NULL, KONDUCTOR_KIND_SEMAPHORE, "s", &options, &held_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_try_acquire(NULL, KONDUCTOR_KIND_LEASE, "l", &options, &held_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_with(NULL, KONDUCTOR_KIND_SEMAPHORE, "s", &options, callback_held, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_arrive_barrier(NULL, "b", &options, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_with_barrier(NULL, "b", &options, callback_barrier, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_check_gate(NULL, "g", &bool_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_gate_conditions(NULL, "g", &statuses_out, &len_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_run_as_leader(NULL, "l", &options, callback_leader, NULL));

    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_held_name(NULL, &string_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_held_holder(NULL, &string_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_held_token(NULL, &u64_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_held_ttl_ms(NULL, &i64_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_held_expires_at_ms(NULL, &i64_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_held_is_lost(NULL, &bool_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_held_lost_cancel(NULL, &cancel));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_held_renew(NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_held_release(NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_leadership_is_leader(NULL, &bool_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_leadership_token(NULL, &u64_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_leadership_holder(NULL, &string_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_leadership_sleep(NULL, 1, &bool_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_leadership_lost_cancel(NULL, &cancel));
    EXPECT_LAST_ERROR_CONTAINS("`leadership`"); /* the message names the argument */
}

/* A number that is no kind, and a kind the call does not apply to, are
 * rejected naming the kind. */
static void kinds(void) {
    CASE(KONDUCTOR_INVALID_ARGUMENT, konductor_client_get(client, 0, "s", &json_out));
    CASE(KONDUCTOR_INVALID_ARGUMENT, konductor_client_list(client, 99, &json_out));
    EXPECT_LAST_ERROR_CONTAINS("kind is 99");
    CASE(KONDUCTOR_INVALID_ARGUMENT, konductor_client_delete(client, 42, "s"));
    CASE(KONDUCTOR_INVALID_ARGUMENT,
         konductor_client_acquire(client, KONDUCTOR_KIND_BARRIER, "b", &options, &held_out));
    EXPECT_LAST_ERROR_CONTAINS("KONDUCTOR_KIND_BARRIER");
    CASE(KONDUCTOR_INVALID_ARGUMENT,
         konductor_client_try_acquire(client, KONDUCTOR_KIND_GATE, "g", &options, &held_out));
    CASE(KONDUCTOR_INVALID_ARGUMENT,
         konductor_client_with(client, KONDUCTOR_KIND_GATE, "g", &options, callback_held, NULL));
    CASE(KONDUCTOR_INVALID_ARGUMENT, konductor_client_wait(client, KONDUCTOR_KIND_SEMAPHORE, "s", &options));
    EXPECT_LAST_ERROR_CONTAINS("KONDUCTOR_KIND_SEMAPHORE");
    CASE(KONDUCTOR_INVALID_ARGUMENT, konductor_client_wait(client, KONDUCTOR_KIND_LEASE, "l", &options));
}

static void null_strings_and_outputs(void) {
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_in_namespace(client, NULL, &client_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_create_semaphore(client, NULL, 1, 0, &json_out));
    EXPECT_LAST_ERROR_CONTAINS("`name`");
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_get(client, KONDUCTOR_KIND_SEMAPHORE, NULL, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_delete(client, KONDUCTOR_KIND_SEMAPHORE, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, NULL, &options, &held_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_create_lease(client, NULL, 0, 0, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_try_acquire(client, KONDUCTOR_KIND_LEASE, NULL, &options, &held_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_arrive_barrier(client, NULL, &options, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_wait(client, KONDUCTOR_KIND_BARRIER, NULL, &options));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_wait(client, KONDUCTOR_KIND_GATE, NULL, &options));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_check_gate(client, NULL, &bool_out));

    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_get(client, KONDUCTOR_KIND_SEMAPHORE, "s", NULL));
    EXPECT_LAST_ERROR_CONTAINS("`out_json`");
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_list(client, KONDUCTOR_KIND_SEMAPHORE, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "s", &options, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_acquire(client, KONDUCTOR_KIND_LEASE, "l", &options, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_check_gate(client, "g", NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_gate_conditions(client, "g", NULL, &len_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_gate_conditions(client, "g", &statuses_out, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_namespace(client, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_from_kubeconfig("/dev/null", NULL, NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_new(NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_in_cluster(NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_cancel_is_triggered(cancel, NULL));

    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_with(client, KONDUCTOR_KIND_SEMAPHORE, "s", &options, NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_with(client, KONDUCTOR_KIND_LEASE, "l", &options, NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_run_as_leader(client, "l", &options, NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_with_barrier(client, "b", &options, NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_create_gate(client, "g", NULL, 2, 0, NULL));
}

static void invalid_utf8(void) {
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_create_semaphore(client, "\xff\xfe", 1, 0, &json_out));
    EXPECT_LAST_ERROR_CONTAINS("not valid UTF-8");
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_get(client, KONDUCTOR_KIND_LEASE, "ab\xc3", &json_out));
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_delete(client, KONDUCTOR_KIND_BARRIER, "\x80"));
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_check_gate(client, "g\xe2\x82", &bool_out));
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_in_namespace(client, "\xff", &client_out));
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_from_kubeconfig("/tmp/\xff", NULL, NULL, &client_out));
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_from_kubeconfig(NULL, "\xff", NULL, &client_out));
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_new("\xc0\xaf", &client_out));

    konductor_options bad = options;
    bad.holder = "holder-\xff";
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "s", &bad, &held_out));
    EXPECT_LAST_ERROR_CONTAINS("options.holder");

    konductor_gate_condition condition = {.kind = KONDUCTOR_CONDITION_GATE, .name = "\xfe"};
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_create_gate(client, "g", &condition, 1, 0, NULL));
    EXPECT_LAST_ERROR_CONTAINS("conditions[0].name");
    condition.name = "ok";
    condition.state = "Op\xff" "en";
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_create_gate(client, "g", &condition, 1, 0, NULL));
}

static void invalid_names_and_holders(void) {
    char long_name[300];
    memset(long_name, 'a', 254);
    long_name[254] = '\0';
    CASE(KONDUCTOR_INVALID_NAME, konductor_client_create_semaphore(client, long_name, 1, 0, &json_out));
    EXPECT_LAST_ERROR_CONTAINS("at most 253");
    CASE(KONDUCTOR_INVALID_NAME, konductor_client_create_semaphore(client, "", 1, 0, &json_out));
    CASE(KONDUCTOR_INVALID_NAME, konductor_client_get(client, KONDUCTOR_KIND_SEMAPHORE, "Upper", &json_out));
    CASE(KONDUCTOR_INVALID_NAME, konductor_client_acquire(client, KONDUCTOR_KIND_LEASE, "has space", &options, &held_out));
    CASE(KONDUCTOR_INVALID_NAME, konductor_client_arrive_barrier(client, "-dash", &options, &json_out));
    CASE(KONDUCTOR_INVALID_NAME, konductor_client_wait(client, KONDUCTOR_KIND_GATE, "under_score", &options));
    CASE(KONDUCTOR_INVALID_NAME, konductor_client_delete(client, KONDUCTOR_KIND_LEASE, "a..b"));

    konductor_gate_condition condition = {.kind = KONDUCTOR_CONDITION_BARRIER, .name = "Bad_Name"};
    CASE(KONDUCTOR_INVALID_NAME, konductor_client_create_gate(client, "g", &condition, 1, 0, NULL));
    condition.name = "fine";
    condition.object_namespace = "Bad.Namespace";
    CASE(KONDUCTOR_INVALID_NAMESPACE, konductor_client_create_gate(client, "g", &condition, 1, 0, NULL));

    char long_namespace[80];
    memset(long_namespace, 'n', 64);
    long_namespace[64] = '\0';
    CASE(KONDUCTOR_INVALID_NAMESPACE, konductor_client_in_namespace(client, long_namespace, &client_out));

    konductor_options bad = options;
    bad.holder = "";
    CASE(KONDUCTOR_INVALID_HOLDER, konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "s", &bad, &held_out));
    bad.holder = "two words";
    CASE(KONDUCTOR_INVALID_HOLDER, konductor_client_try_acquire(client, KONDUCTOR_KIND_LEASE, "l", &bad, &held_out));
    memset(long_name, 'h', 254);
    bad.holder = long_name;
    CASE(KONDUCTOR_INVALID_HOLDER, konductor_client_arrive_barrier(client, "b", &bad, &json_out));
}

static void invalid_counts(void) {
    CASE(KONDUCTOR_INVALID_COUNT, konductor_client_create_semaphore(client, "s", 0, 0, &json_out));
    EXPECT_LAST_ERROR_CONTAINS("permits \"0\"");
    CASE(KONDUCTOR_INVALID_COUNT, konductor_client_create_semaphore(client, "s", -1, 0, &json_out));
    CASE(KONDUCTOR_INVALID_COUNT, konductor_client_create_barrier(client, "b", 0, 0, 0, &json_out));
    CASE(KONDUCTOR_INVALID_COUNT, konductor_client_create_barrier(client, "b", -5, 0, 0, &json_out));
    CASE(KONDUCTOR_INVALID_COUNT, konductor_client_create_barrier(client, "b", 2, -1, 0, &json_out));
    CASE(KONDUCTOR_INVALID_COUNT, konductor_client_create_barrier(client, "b", 2, 3, 0, &json_out));
}

static void invalid_durations_and_options(void) {
    CASE(KONDUCTOR_INVALID_DURATION, konductor_client_create_semaphore(client, "s", 1, -1, &json_out));
    EXPECT_LAST_ERROR_CONTAINS("ttl \"-1ms\"");
    CASE(KONDUCTOR_INVALID_DURATION, konductor_client_create_lease(client, "l", -100, 0, &json_out));
    CASE(KONDUCTOR_INVALID_DURATION, konductor_client_create_barrier(client, "b", 1, 0, -1, &json_out));
    CASE(KONDUCTOR_INVALID_DURATION, konductor_client_create_gate(client, "g", NULL, 0, -1, &json_out));

    konductor_options bad = options;
    bad.ttl_ms = -5;
    CASE(KONDUCTOR_INVALID_DURATION, konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "s", &bad, &held_out));
    bad.ttl_ms = 50; /* under the 100 ms minimum */
    CASE(KONDUCTOR_INVALID_DURATION, konductor_client_acquire(client, KONDUCTOR_KIND_LEASE, "l", &bad, &held_out));
    bad.ttl_ms = 0;
    bad.timeout_ms = -2;
    CASE(KONDUCTOR_INVALID_DURATION, konductor_client_wait(client, KONDUCTOR_KIND_GATE, "g", &bad));
    EXPECT_LAST_ERROR_CONTAINS("timeout \"-2ms\"");

    bad = options;
    bad.struct_size = 0; /* not initialised with konductor_options_init */
    CASE(KONDUCTOR_INVALID_OPTIONS, konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "s", &bad, &held_out));
    bad.struct_size = offsetof(konductor_options, auto_renew); /* smaller than any version */
    CASE(KONDUCTOR_INVALID_OPTIONS, konductor_client_wait(client, KONDUCTOR_KIND_BARRIER, "b", &bad));
    bad.struct_size = 1u << 20; /* no version is that large: uninitialised memory */
    CASE(KONDUCTOR_INVALID_OPTIONS, konductor_client_wait(client, KONDUCTOR_KIND_GATE, "g", &bad));
    EXPECT_LAST_ERROR_CONTAINS("struct_size is 1048576");

    konductor_gate_condition condition = {.kind = 0, .name = "x"};
    CASE(KONDUCTOR_INVALID_ARGUMENT, konductor_client_create_gate(client, "g", &condition, 1, 0, NULL));
    condition.kind = 42;
    CASE(KONDUCTOR_INVALID_ARGUMENT, konductor_client_create_gate(client, "g", &condition, 1, 0, NULL));
    EXPECT_LAST_ERROR_CONTAINS("kind is 42");
}

int main(void) {
    client = testing_client();
    REQUIRE_OK(konductor_options_init(&options));
    options.timeout_ms = 0;
    REQUIRE_OK(konductor_cancel_new(&cancel));
    konductor_cancel *cancel_before = cancel;

    null_handles();
    kinds();
    null_strings_and_outputs();
    invalid_utf8();
    invalid_names_and_holders();
    invalid_counts();
    invalid_durations_and_options();

    /* No out-parameter was written by a failing call. */
    EXPECT_TRUE(held_out == NULL && client_out == NULL && json_out == NULL);
    EXPECT_TRUE(string_out == NULL && !bool_out && u64_out == 0 && i64_out == 0 && len_out == 0);
    EXPECT_TRUE(statuses_out == NULL && cancel == cancel_before);

    /* Nothing reached the API server. */
    char *json = NULL;
    REQUIRE_OK(konductor_client_list(client, KONDUCTOR_KIND_SEMAPHORE, &json));
    EXPECT_STR_EQ("[]", json);
    konductor_string_free(json);
    REQUIRE_OK(konductor_client_list(client, KONDUCTOR_KIND_BARRIER, &json));
    EXPECT_STR_EQ("[]", json);
    konductor_string_free(json);

    /* The frees accept NULL. */
    konductor_client_free(NULL);
    konductor_held_free(NULL);
    konductor_cancel_free(NULL);
    konductor_string_free(NULL);
    konductor_gate_condition_status_free(NULL, 3);

    konductor_cancel_free(cancel);
    konductor_client_free(client);
    testing_finish("test_bad_input");
}
