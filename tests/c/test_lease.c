/* Leases through the C API, against the real control plane: every lease
 * function, its success and its error codes, fencing across holders, and
 * leader election. */
#include "testing.h"

static void create_get_list_delete(konductor_client *client) {
    char *json = NULL;
    REQUIRE_OK(konductor_client_create_lease(client, "leader", 30000, KONDUCTOR_PRIORITY_DEFAULT, &json));
    EXPECT_TRUE(strstr(json, "\"ttl\":\"30s\"") != NULL);
    EXPECT_TRUE(strstr(json, "\"priority\"") == NULL);
    konductor_string_free(json);

    REQUIRE_OK(konductor_client_create_lease(client, "ranked", 0, 5, &json));
    EXPECT_TRUE(strstr(json, "\"priority\":5") != NULL);
    konductor_string_free(json);
    REQUIRE_OK(konductor_client_create_lease(client, "third", 0, KONDUCTOR_PRIORITY_DEFAULT, NULL));
    EXPECT_RESULT(KONDUCTOR_ALREADY_EXISTS,
                  konductor_client_create_lease(client, "third", 0, KONDUCTOR_PRIORITY_DEFAULT, NULL));

    REQUIRE_OK(konductor_client_get(client, KONDUCTOR_KIND_LEASE, "leader", &json));
    EXPECT_TRUE(strstr(json, "\"kind\":\"Lease\"") != NULL);
    konductor_string_free(json);
    REQUIRE_OK(konductor_client_list(client, KONDUCTOR_KIND_LEASE, &json));
    EXPECT_TRUE(strstr(json, "\"leader\"") && strstr(json, "\"ranked\"") && strstr(json, "\"third\""));
    konductor_string_free(json);

    REQUIRE_OK(konductor_client_delete(client, KONDUCTOR_KIND_LEASE, "third"));
    json = NULL;
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_get(client, KONDUCTOR_KIND_LEASE, "third", &json));
    EXPECT_TRUE(json == NULL);
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_delete(client, KONDUCTOR_KIND_LEASE, "third"));
}

static void acquire_contend_renew_release(konductor_client *client) {
    konductor_options a = testing_options("c-leader-a", KONDUCTOR_WAIT_FOREVER);
    a.ttl_ms = 10000;
    konductor_held *lease = NULL;
    REQUIRE_OK(konductor_client_acquire(client, KONDUCTOR_KIND_LEASE, "leader", &a, &lease));

    uint64_t token_a = 0;
    EXPECT_HELD(lease, "leader", "c-leader-a", 10000, &token_a);

    /* Someone else finds it held, with the holder named in the last error. */
    konductor_options b = testing_options("c-leader-b", KONDUCTOR_WAIT_FOREVER);
    konductor_held *other = NULL;
    EXPECT_RESULT(KONDUCTOR_LEASE_HELD, konductor_client_try_acquire(client, KONDUCTOR_KIND_LEASE, "leader", &b, &other));
    EXPECT_LAST_ERROR_CONTAINS("c-leader-a");
    EXPECT_TRUE(other == NULL);
    b.timeout_ms = 0;
    EXPECT_RESULT(KONDUCTOR_LEASE_HELD, konductor_client_acquire(client, KONDUCTOR_KIND_LEASE, "leader", &b, &other));
    b.timeout_ms = 300;
    EXPECT_RESULT(KONDUCTOR_TIMEOUT, konductor_client_acquire(client, KONDUCTOR_KIND_LEASE, "leader", &b, &other));
    EXPECT_RESULT(KONDUCTOR_ALREADY_HELD, konductor_client_acquire(client, KONDUCTOR_KIND_LEASE, "leader", &a, &other));

    konductor_cancel *lost_signal = NULL;
    REQUIRE_OK(konductor_held_lost_cancel(lease, &lost_signal));
    REQUIRE_OK(konductor_held_renew(lease));
    REQUIRE_OK(konductor_held_release(lease));
    REQUIRE_OK(konductor_held_release(lease));
    EXPECT_RESULT(KONDUCTOR_LOST, konductor_held_renew(lease));
    bool lost = false;
    REQUIRE_OK(konductor_held_is_lost(lease, &lost));
    EXPECT_TRUE(lost);
    konductor_held_free(lease);
    konductor_cancel_free(lost_signal);

    /* The next leader's fencing token is larger. */
    REQUIRE_OK(konductor_client_try_acquire(client, KONDUCTOR_KIND_LEASE, "leader", &b, &other));
    uint64_t token_b = 0;
    REQUIRE_OK(konductor_held_token(other, &token_b));
    EXPECT_TRUE(token_b > token_a);
    konductor_held_free(other);
    konductor_held_free(NULL);

    /* Freeing a held lease releases it. */
    REQUIRE_OK(konductor_client_try_acquire(client, KONDUCTOR_KIND_LEASE, "leader", &a, &lease));
    konductor_held_free(lease);

    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_acquire(client, KONDUCTOR_KIND_LEASE, "no-such-lease", &a, &lease));
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_try_acquire(client, KONDUCTOR_KIND_LEASE, "no-such-lease", &a, &lease));
}

static void expiry(konductor_client *client) {
    REQUIRE_OK(konductor_client_create_lease(client, "brief", 0, KONDUCTOR_PRIORITY_DEFAULT, NULL));
    konductor_options options = testing_options("c-brief", KONDUCTOR_WAIT_FOREVER);
    options.ttl_ms = 200;
    konductor_held *lease = NULL;
    REQUIRE_OK(konductor_client_acquire(client, KONDUCTOR_KIND_LEASE, "brief", &options, &lease));
    konductor_cancel *lost_signal = NULL;
    REQUIRE_OK(konductor_held_lost_cancel(lease, &lost_signal));
    testing_sleep_ms(400);
    EXPECT_RESULT(KONDUCTOR_LOST, konductor_held_renew(lease));
    bool triggered = false;
    REQUIRE_OK(konductor_cancel_is_triggered(lost_signal, &triggered));
    EXPECT_TRUE(triggered);
    konductor_held_free(lease);
    konductor_cancel_free(lost_signal);

    /* With auto_renew it stays held; deleting the lease takes it away. */
    options.auto_renew = true;
    options.ttl_ms = 1500;
    REQUIRE_OK(konductor_client_acquire(client, KONDUCTOR_KIND_LEASE, "brief", &options, &lease));
    testing_sleep_ms(3500);
    bool lost = true;
    REQUIRE_OK(konductor_held_is_lost(lease, &lost));
    EXPECT_TRUE(!lost);
    REQUIRE_OK(konductor_client_delete(client, KONDUCTOR_KIND_LEASE, "brief"));
    EXPECT_RESULT(KONDUCTOR_LOST, konductor_held_renew(lease));
    konductor_held_free(lease);
}

struct with_record {
    int calls;
    uint64_t token;
    int return_value;
};

static int record_lease(const konductor_held *lease, void *user_data) {
    struct with_record *record = user_data;
    record->calls++;
    if (konductor_held_token(lease, &record->token) != KONDUCTOR_OK) {
        return 99;
    }
    return record->return_value;
}

static void with_callback(konductor_client *client) {
    konductor_options options = testing_options("c-with", 2000);
    struct with_record record = {0};
    REQUIRE_OK(konductor_client_with(client, KONDUCTOR_KIND_LEASE, "ranked", &options, record_lease, &record));
    EXPECT_TRUE(record.calls == 1 && record.token >= 1);

    record.return_value = -1;
    EXPECT_RESULT(KONDUCTOR_CALLBACK_FAILED, konductor_client_with(client, KONDUCTOR_KIND_LEASE, "ranked", &options, record_lease, &record));
    EXPECT_TRUE(record.calls == 2);
    /* ...and the lease was released: another holder takes it at once. */
    konductor_options other = testing_options("c-after-with", 0);
    konductor_held *lease = NULL;
    REQUIRE_OK(konductor_client_try_acquire(client, KONDUCTOR_KIND_LEASE, "ranked", &other, &lease));

    /* While it is held, the _with call times out without running the callback. */
    options.timeout_ms = 200;
    EXPECT_RESULT(KONDUCTOR_TIMEOUT, konductor_client_with(client, KONDUCTOR_KIND_LEASE, "ranked", &options, record_lease, &record));
    EXPECT_TRUE(record.calls == 2);
    konductor_held_free(lease);
    EXPECT_RESULT(KONDUCTOR_NULL_ARGUMENT, konductor_client_with(client, KONDUCTOR_KIND_LEASE, "ranked", &options, NULL, NULL));
}

struct term {
    konductor_client *client;
    int calls;
    bool leader_at_start;
    bool still_leader_after_sleep;
    bool lost_signal_triggered;
    uint64_t token;
    char holder[64];
    bool delete_lease;
    int return_value;
};

static int lead(const konductor_leadership *leadership, void *user_data) {
    struct term *term = user_data;
    term->calls++;
    const char *holder = NULL;
    konductor_cancel *lost_signal = NULL;
    if (konductor_leadership_is_leader(leadership, &term->leader_at_start) != KONDUCTOR_OK ||
        konductor_leadership_token(leadership, &term->token) != KONDUCTOR_OK ||
        konductor_leadership_holder(leadership, &holder) != KONDUCTOR_OK ||
        konductor_leadership_lost_cancel(leadership, &lost_signal) != KONDUCTOR_OK) {
        return 99;
    }
    snprintf(term->holder, sizeof term->holder, "%s", holder);
    if (term->delete_lease) {
        /* Taking the lease away: the next renewal finds it gone, and the
         * sleep ends early with leadership lost. */
        konductor_client_delete(term->client, KONDUCTOR_KIND_LEASE, "elected");
        konductor_leadership_sleep(leadership, 30000, &term->still_leader_after_sleep);
    } else {
        konductor_leadership_sleep(leadership, 100, &term->still_leader_after_sleep);
    }
    if (konductor_leadership_sleep(leadership, -1, &term->still_leader_after_sleep) != KONDUCTOR_INVALID_DURATION) {
        return 98;
    }
    konductor_cancel_is_triggered(lost_signal, &term->lost_signal_triggered);
    konductor_cancel_free(lost_signal);
    return term->return_value;
}

static void leader_election(konductor_client *client) {
    REQUIRE_OK(konductor_client_create_lease(client, "elected", 0, KONDUCTOR_PRIORITY_DEFAULT, NULL));
    konductor_options options = testing_options("c-leader", KONDUCTOR_WAIT_FOREVER);
    options.ttl_ms = 1500;

    struct term term = {.client = client};
    REQUIRE_OK(konductor_client_run_as_leader(client, "elected", &options, lead, &term));
    EXPECT_TRUE(term.calls == 1 && term.leader_at_start && term.still_leader_after_sleep);
    EXPECT_TRUE(!term.lost_signal_triggered && term.token >= 1);
    EXPECT_STR_EQ("c-leader", term.holder);
    uint64_t first_term = term.token;

    term.return_value = 4;
    EXPECT_RESULT(KONDUCTOR_CALLBACK_FAILED, konductor_client_run_as_leader(client, "elected", &options, lead, &term));
    EXPECT_TRUE(term.calls == 2 && term.token > first_term);

    /* Stepping down released the lease: someone else takes it at once. */
    konductor_options other = testing_options("c-follower", 0);
    konductor_held *lease = NULL;
    REQUIRE_OK(konductor_client_try_acquire(client, KONDUCTOR_KIND_LEASE, "elected", &other, &lease));
    options.timeout_ms = 200;
    EXPECT_RESULT(KONDUCTOR_TIMEOUT, konductor_client_run_as_leader(client, "elected", &options, lead, &term));
    EXPECT_TRUE(term.calls == 2);
    konductor_held_free(lease);

    /* Losing the lease while leading is reported after the callback returns. */
    term = (struct term){.client = client, .delete_lease = true};
    options.timeout_ms = KONDUCTOR_WAIT_FOREVER;
    int64_t started = testing_now_ms();
    EXPECT_RESULT(KONDUCTOR_LOST, konductor_client_run_as_leader(client, "elected", &options, lead, &term));
    EXPECT_TRUE(term.calls == 1 && !term.still_leader_after_sleep && term.lost_signal_triggered);
    EXPECT_TRUE(testing_now_ms() - started < 20000);

    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_run_as_leader(client, "elected", &options, lead, &term));
    EXPECT_RESULT(KONDUCTOR_NULL_ARGUMENT, konductor_client_run_as_leader(client, "elected", &options, NULL, NULL));
}

int main(void) {
    konductor_client *client = testing_client();
    create_get_list_delete(client);
    acquire_contend_renew_release(client);
    expiry(client);
    with_callback(client);
    leader_election(client);
    konductor_client_free(client);
    testing_finish("test_lease");
}
