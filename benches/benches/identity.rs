//! The in-memory identity allocator: new identities per second, and references to existing
//! ones. Inputs are fixed (label sets numbered 0..N).

use std::hint::black_box;
use std::time::Duration;

use cilium_core::LabelSet;
use cilium_identity::{Allocator, AllocatorConfig, UserId};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const N: usize = 10_000;

fn sets() -> Vec<LabelSet> {
    (0..N)
        .map(|i| {
            LabelSet::parse_list(&[
                format!("k8s:app=svc-{i}"),
                format!("k8s:io.kubernetes.pod.namespace=ns-{}", i % 50),
            ])
        })
        .collect()
}

fn in_memory(c: &mut Criterion) {
    let sets = sets();
    let user = UserId::new("bench").expect("valid user");
    let mut group = c.benchmark_group("identity/in-memory");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("allocate 10k new", |b| {
        b.iter_batched(
            || Allocator::new(AllocatorConfig::new(0).expect("cluster 0")),
            |mut alloc| {
                for set in &sets {
                    black_box(
                        alloc
                            .allocate(set, &user, Duration::ZERO)
                            .expect("free ids"),
                    );
                }
                alloc
            },
            BatchSize::LargeInput,
        );
    });
    let mut warm = Allocator::new(AllocatorConfig::new(0).expect("cluster 0"));
    for set in &sets {
        warm.allocate(set, &user, Duration::ZERO).expect("free ids");
    }
    group.bench_function("reference 10k existing", |b| {
        b.iter(|| {
            for set in &sets {
                black_box(warm.allocate(set, &user, Duration::ZERO).expect("known"));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, in_memory);
criterion_main!(benches);
