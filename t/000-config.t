# nginx -t rejects bad directive values with a message naming the
# directive, and good configurations start.
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a size that is not one
--- config
    location = /health {
        matcher_health;
        matcher_max_body_size lots;
    }
--- must_die
--- error_log
"matcher_max_body_size" directive invalid value



=== TEST 2: zero body size
--- http_config
    matcher_max_body_size 0;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
"matcher_max_body_size" and "matcher_ingest_max_body_size" must be greater than zero



=== TEST 3: JSON depth out of range
--- config
    location = /health {
        matcher_health;
        matcher_json_max_depth 0;
    }
--- must_die
--- error_log
"matcher_json_max_depth" must be from 1 to 56



=== TEST 4: service name with a quote
--- config
    location = /health {
        matcher_health;
        matcher_service_name 'a"b';
    }
--- must_die
--- error_log
"matcher_service_name" directive must be printable ASCII without quotes



=== TEST 5: a CORS origin that is not one
--- config
    location = /health {
        matcher_health;
        matcher_cors_origins ftp://example.com;
    }
--- must_die
--- error_log
invalid origin "ftp://example.com" in "matcher_cors_origins"



=== TEST 6: an endpoint twice in one location
--- config
    location = /health {
        matcher_health;
        matcher_health;
    }
--- must_die
--- error_log
"matcher_health" directive is duplicate



=== TEST 7: an endpoint beside another content handler
--- config
    location = /health {
        proxy_pass http://127.0.0.1:1;
        matcher_health;
    }
--- must_die
--- error_log
"matcher_health" conflicts with another content handler



=== TEST 8: a store that is not lmdb
--- http_config
    matcher_store redis://localhost;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid store "redis://localhost" in "matcher_store"



=== TEST 9: a store size too small
--- http_config
    matcher_store lmdb:store size=10k;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid size "10k" in "matcher_store": at least 1m



=== TEST 10: a bad assignment ttl
--- http_config
    matcher_assignment_ttl soon;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
"matcher_assignment_ttl" directive invalid value



=== TEST 11: matcher_store only at http level
--- config
    location = /health {
        matcher_health;
        matcher_store lmdb:store;
    }
--- must_die
--- error_log
"matcher_store" directive is not allowed here



=== TEST 12: a full, valid configuration starts (sizes in g too)
--- http_config
    matcher_store lmdb:store size=1g;
    matcher_assignment_ttl 7d;
    matcher_max_body_size 2m;
    matcher_cors_origins http://localhost:5173;
--- config
    location = /health {
        matcher_health;
        matcher_service_name my-matcher;
    }
--- request
GET /health
--- response_body_like: "service":"my-matcher"
--- no_error_log
[error]



=== TEST 13: an embedder the module does not know
--- http_config
    matcher_embedder word2vec;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid embedder "word2vec": expected "local"



=== TEST 14: embedder dimensions out of range
--- http_config
    matcher_embedder local dims=32;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid "dims=32": dims must be 64 to 4096



=== TEST 15: an unknown embedder parameter
--- http_config
    matcher_embedder local size=5;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid parameter "size=5"



=== TEST 16: the embedder twice
--- http_config
    matcher_embedder local;
    matcher_embedder local dims=256;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
"matcher_embedder" directive is duplicate



=== TEST 17: a vector index capacity out of range
--- http_config
    matcher_vectors local capacity=10;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid "capacity=10": capacity must be 1000 to 100000000 creators



=== TEST 18: a vector index the module does not know
--- http_config
    matcher_vectors faiss;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid vector index "faiss": expected "local"



=== TEST 19: IVF lists out of range
--- http_config
    matcher_vectors local lists=5000;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid "lists=5000": lists must be auto, off or 1 to 4096



=== TEST 20: nprobe not a number
--- http_config
    matcher_vectors local nprobe=many;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid "nprobe=many": nprobe must be 0 (exact) to 4096



=== TEST 21: a search mode the index does not have
--- http_config
    matcher_vectors local search=hnsw;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid "search=hnsw": search must be auto, exact, ivf, sketch or graph



=== TEST 21b: a graph degree past the most a file keeps
--- http_config
    matcher_vectors local search=graph graph_m=65;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid "graph_m=65": graph_m must be 0 (no graph) to 64



=== TEST 21c: a graph search of width 0
--- http_config
    matcher_vectors local ef=0;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid "ef=0": ef must be 1 to 4096



=== TEST 22: store reads neither on the loop nor on the pool
--- http_config
    matcher_store lmdb:store reads=sometimes;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid parameter "reads=sometimes" in "matcher_store"



=== TEST 23: searches run neither on the loop nor on the pool
--- http_config
    matcher_vectors local run=elsewhere;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid parameter "run=elsewhere"



=== TEST 24: both on the pool, explicitly: a healthy start
--- http_config
    matcher_store lmdb:store size=16m reads=pool;
    matcher_vectors local run=pool;
--- config
    location = /health { matcher_health; }
--- request
GET /health
--- error_code: 200
--- response_body_like: "store":\{"status":"up"



=== TEST 24b: run=auto, the default said out loud: a healthy start
--- http_config
    matcher_store lmdb:store size=16m;
    matcher_vectors local run=auto;
--- config
    location = /health { matcher_health; }
--- request
GET /health
--- error_code: 200
--- response_body_like: "vectors":\{"status":"up"
