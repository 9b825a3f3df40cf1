# Recipes for the common jobs. `just --list` shows them; install just with `cargo install just`.
# Nothing here is required: each recipe is one cargo command you can run by hand.

# Train a VAE; arguments pass through, e.g. `just train --epochs 20 --out runs/long`.
train *ARGS:
    cargo run --release -- train {{ARGS}}

# Evaluate a checkpoint on the test set, e.g. `just eval runs/default/checkpoint.safetensors --iw-samples 5000`.
eval CHECKPOINT="runs/default/checkpoint.safetensors" *ARGS:
    cargo run --release -- eval --checkpoint {{CHECKPOINT}} {{ARGS}}

# The IWAE paper's MNIST protocol (Burda et al. 2016), 3,280 epochs: `just burda vae` or `just burda iwae5`; again to resume.
burda WHICH:
    #!/usr/bin/env bash
    set -euo pipefail
    case "{{WHICH}}" in
        vae) objective="--objective elbo"; out=results/burda/vae_k1 ;;
        iwae5) objective="--objective iwae --k 5"; out=results/burda/iwae_k5 ;;
        *) echo "usage: just burda vae|iwae5" >&2; exit 2 ;;
    esac
    resume=""
    if ls "$out"/state-epoch-*.safetensors >/dev/null 2>&1; then resume="--resume"; fi
    # The committed runs were trained with matrixmultiply's kernel, from before our own
    # became the default: keep it, so that a resumed run continues bit for bit.
    TENSOR_GEMM=matrixmultiply cargo run --release -- train $objective $resume --out "$out" \
        --binarize --activation tanh --hidden 200,200 --latent 50 --batch-size 20 \
        --lr-schedule iwae --epochs 3280 --adam-eps 1e-4 --init glorot --output-bias data-mean

# The test NLL of a Burda run at K = 5000 (test set binarized once, seed 1).
burda-eval WHICH:
    cargo run --release -- eval --checkpoint results/burda/{{WHICH}}/checkpoint.safetensors --binarize --iw-samples 5000 --json

# The convolutional VAE's likelihood runs (results/conv/README.md): `just conv-likelihood vae` or
# `just conv-likelihood iwae5`; again to resume.
conv-likelihood WHICH:
    #!/usr/bin/env bash
    set -euo pipefail
    case "{{WHICH}}" in
        vae) objective="--objective elbo"; out=results/conv/vae_k1 ;;
        iwae5) objective="--objective iwae --k 5"; out=results/conv/iwae_k5 ;;
        *) echo "usage: just conv-likelihood vae|iwae5" >&2; exit 2 ;;
    esac
    resume=""
    if ls "$out"/state-epoch-*.safetensors >/dev/null 2>&1; then resume="--resume"; fi
    cargo run --release -- train $objective $resume --out "$out" --quiet \
        --arch conv --channels 32,64 --kernel 4 --stride 2 --padding 1 --hidden 512 --latent 50 \
        --binarize --batch-size 128 --epochs 250 --lr 1e-3 --lr-schedule cosine:1e-5 \
        --output-bias data-mean --pictures-every 0

# The test NLL of a conv likelihood run at K = 5000 (test set binarized once, seed 1).
conv-likelihood-eval WHICH:
    cargo run --release -- eval --checkpoint results/conv/{{WHICH}}/checkpoint.safetensors --binarize --iw-samples 5000 --json

# Write a grid of generated digits.
sample CHECKPOINT="runs/default/checkpoint.safetensors" OUT="samples.png":
    cargo run --release -- sample --checkpoint {{CHECKPOINT}} --out {{OUT}}

# Write test images over their reconstructions.
reconstruct CHECKPOINT="runs/default/checkpoint.safetensors" OUT="reconstructions.png":
    cargo run --release -- reconstruct --checkpoint {{CHECKPOINT}} --out {{OUT}}

# The latent space of a checkpoint, into a folder: manifold, latent map, interpolations,
# each image's score (least likely first) and code; e.g. `just explore runs/mine/checkpoint.safetensors runs/mine/explore --data my-images/`.
explore CHECKPOINT="runs/default/checkpoint.safetensors" OUT="runs/explore" *ARGS:
    mkdir -p {{OUT}}
    cargo run --release -- manifold --checkpoint {{CHECKPOINT}} --out {{OUT}}/manifold.png {{ARGS}}
    cargo run --release -- latent-map --checkpoint {{CHECKPOINT}} --out {{OUT}}/latent_map.png {{ARGS}}
    cargo run --release -- interpolate --checkpoint {{CHECKPOINT}} --random 8 --out {{OUT}}/interpolation.png {{ARGS}}
    cargo run --release -- score --checkpoint {{CHECKPOINT}} --out {{OUT}}/scores.csv --top 32 --top-out {{OUT}}/least_likely.png {{ARGS}}
    cargo run --release -- encode --checkpoint {{CHECKPOINT}} --out {{OUT}}/codes.csv {{ARGS}}

# The test suite (what CI runs, besides fmt and clippy).
test:
    cargo test --workspace --release

# The property suites with many more cases (every op, random compositions, the ELBO, the kernel).
gradcheck CASES="2000":
    PROPTEST_CASES={{CASES}} cargo test --workspace --release

# Damaged IDX files and checkpoints by the thousand, then the crash test (SIGKILL anywhere, then --resume).
fuzz CASES="20000":
    PROPTEST_CASES={{CASES}} cargo test --release -p vae --test fuzz_inputs --test fuzz_folders
    PROPTEST_CASES=$(( {{CASES}} / 100 )) cargo test --release --test fuzz_cli
    cargo test --release --test crash -- --nocapture

# Benchmarks: matmul kernel (ours vs matrixmultiply 1 thread, then matrixmultiply's own threading), train step, Adam; the kernel report and its roofline (target/roofline.svg).
bench:
    cargo bench --bench matmul
    MATMUL_NUM_THREADS=2 cargo bench --bench matmul --features mm-threading
    cargo bench --bench train_step
    cargo bench --bench adam
    cargo run --release -p tools --features peers --bin kernel_report -- --json > target/kernel_report.jsonl
    cargo run --release -p tools --bin roofline -- target/kernel_report.jsonl target/roofline

# Our GEMM against matrixmultiply and the gemm crate, as % of the FMA peak (ARGS: --json, --threads N, --only ...).
kernel-report *ARGS:
    cargo run --release -p tools --features peers --bin kernel_report -- {{ARGS}}

# Mutation testing of the engine's ops and the optimizers (686 mutants; hours: run it in the
# background). Installs cargo-mutants if it is missing; SHARD picks one of 8 deterministic parts.
mutants SHARD="0/1":
    command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked
    cargo mutants --workspace -f 'crates/tensor/src/ops/**' -f 'crates/tensor/src/speed/parallel.rs' -f 'crates/tensor/src/speed/side_by_side.rs' -f 'crates/optim/src/**' --shard {{SHARD}} --output target/mutants-{{replace(SHARD, "/", "-of-")}}

# Mutation testing of the conv files alone, in shards (`just mutants-conv 0/4` … `3/4`), each mutant
# tested with the tensor crate's unit, golden, composition and tape tests and its lessons.
mutants-conv SHARD="0/1":
    command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked
    cargo mutants --workspace --shard {{SHARD}} -f crates/tensor/src/ops/conv2d.rs -f crates/tensor/src/ops/conv_transpose2d.rs -f crates/tensor/src/ops/im2col.rs -f crates/tensor/src/ops/lowered.rs -f crates/tensor/src/speed/side_by_side.rs --cargo-test-arg=--lib --cargo-test-arg=--test=conv_golden --cargo-test-arg=--test=gradcheck_compositions --cargo-test-arg=--test=tape --cargo-test-arg=--examples --output target/mutants-conv-{{replace(SHARD, "/", "-of-")}}

# Format the code.
fmt:
    cargo fmt --all

# Lints as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# API documentation (target/doc/tensor/index.html is the place to start).
doc:
    cargo doc --workspace --no-deps

# What CI runs.
ci:
    bash .ci/run
