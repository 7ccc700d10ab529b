# Groups the lines of `perf report --no-children --sort comm,dso,sym
# --stdio -g none` into the steps of a consent's path and prints each
# step's share of the samples and, given `-v us=N` (CPU microseconds per
# answer), its microseconds per answer. The step of a sample is decided by
# its thread, then its library, then its symbol: a heuristic (inlined code
# counts where it was inlined), good to a few percent.
function step(comm, dso, sym) {
    if (comm ~ /sqlit/) {
        if (dso ~ /kernel/) return "writer: WAL and database file I/O, fsync (kernel)"
        if (sym ~ /memmove|memcpy|memcmp|memset/) return "writer: SQLite (pager, B-tree, WAL)"
        if (sym ~ /malloc|free|_int_|mi_|realloc/) return "writer: allocation"
        if (dso ~ /libc/ && sym ~ /pthread|lll_|futex/) return "writer: queue hand-off and wake-ups"
        if (sym ~ /tokio|oneshot|waker|answer|mpsc|blocking_recv/) return "writer: queue hand-off and wake-ups"
        if (sym ~ /json/) return "writer: SQLite json_valid CHECK"
        if (sym ~ /nexaguard|rusqlite|hashbrown|core::|alloc::/) return "writer: binding values, statements (Rust)"
        return "writer: SQLite (pager, B-tree, WAL)"
    }
    if (dso ~ /kernel/) return "workers: TCP, epoll, scheduling (kernel)"
    if (sym ~ /malloc|_int_free|cfree|free@|realloc|unlink_chunk|mi_|_mi_|calloc/) return "workers: allocation"
    if (sym ~ /memmove|memcpy|memcmp|memset|strlen/) return "workers: memory copies"
    if (sym ~ /rustls|ring_core|ring::|aes|gcm|chacha|poly1305/) return "workers: TLS records"
    if (sym ~ /serde_json|serde::|serde_core|json/) return "workers: JSON parse and serialise"
    if (sym ~ /nexaguard_tcf|nexaguard_gpp/) return "workers: TC/GPP string decode and policy"
    if (sym ~ /sha2|hmac|digest|sha256|Sha256/) return "workers: hashing (token, HMAC, body hash)"
    if (sym ~ /metrics/) return "workers: metrics"
    if (sym ~ /tracing/) return "workers: tracing"
    if (sym ~ /governor|ratelimit/) return "workers: rate limit"
    if (sym ~ /oneshot|mpsc|semaphore|Semaphore|batch_semaphore/) return "workers: hand-off to the writer"
    if (sym ~ /nexaguard_store/) return "workers: store (preparing the row)"
    if (sym ~ /nexaguard_(server|consent)/) return "workers: handler (checks, origin, records)"
    if (sym ~ /hyper|httparse|http::|axum|tower|bytes::/) return "workers: HTTP, routing, middleware"
    if (sym ~ /tokio|pthread|lll_|futex|clock_gettime|vdso/ || dso ~ /vdso/) return "workers: runtime (tasks, timers, wake-ups)"
    if (sym ~ /time::|uuid|base64|core::fmt|alloc::fmt|fmt::/) return "workers: formatting (time, ids, base64)"
    return "workers: other"
}
/^#/ || NF < 4 { next }
{
    pct = $1; sub("%", "", pct)
    comm = $2; dso = $3
    sym = $0; sub(/^.*\] /, "", sym)
    share[step(comm, dso, sym)] += pct
    total += pct
}
END {
    n = 0
    for (s in share) names[++n] = s
    # Sort by name so that the writer's steps and the workers' stay together.
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (names[j] < names[i]) { t = names[i]; names[i] = names[j]; names[j] = t }
    printf "  %-55s %7s %10s\n", "step", "samples", "us/answer"
    for (i = 1; i <= n; i++) printf "  %-55s %6.1f%% %10.1f\n", names[i], share[names[i]], us * share[names[i]] / total
}
