//! A k-d tree over points in R^d with per-node sums, for the queries MeanShift makes most: the sum
//! and count of all points within a radius. Subtrees whose bounding box lies wholly inside the ball
//! are added from their stored sums without visiting their points, so a query costs about the
//! boundary of the ball rather than its contents. Nodes split and are bounded along the points'
//! principal axes ([`Axes`]), which fit correlated pass-rate vectors more tightly than the
//! coordinate axes; whether a point is in range is still decided from its own coordinates.
//!
//! Sums are kept in fixed point (i128 accumulators over i64 coordinates scaled by a power of two
//! chosen from the data's range), so a sum is exact and independent of the order points are added:
//! two queries that cover the same points return bitwise the same mean. MeanShift relies on that to
//! merge seeds whose trajectories meet.
//!
//! Neighbour crates (linfa-nn, kiddo) return the points in range one by one; none keeps subtree
//! aggregates, which is what makes every-point-a-seed MeanShift fast here.

/// A bound on |d²₃₂ − d²|, the error of a squared distance computed in single precision between
/// points whose coordinates are at most `max_abs` in absolute value: rounding x and q to f32,
/// their difference, its square and a sum of d squares each err by at most 2^-24 relatively, which
/// gives (20d + 4d²)·max_abs²·2^-24; twice that leaves room for the double-precision side.
#[must_use]
fn f32_distance_error(dim: usize, max_abs: f64) -> f64 {
    let d = dim as f64;
    2.0 * (20.0 * d + 4.0 * d * d) * max_abs * max_abs * 2f64.powi(-24)
}

/// A tighter bound for deciding whether d² ≤ r²: the error of a single-precision squared distance
/// at d = r, between a point and a query whose norms add up to at most `norms`. With u = 2^-24
/// (taken as 1.01·u for second-order terms), each coordinate difference errs by at most
/// u·(|x_k| + |q_k| + |x_k − q_k|), so the difference vector by δ = u·(norms + r); its squared
/// norm then errs by at most 2rδ + δ², and squaring and summing d terms by (d + 1)·u·(r + δ)².
/// Twice that is returned.
///
/// The bound is used at r only, not at each point's own distance: it grows with d, but slower
/// than d² itself as long as u·norms/r is small, so a point beyond r still computes to beyond
/// r² minus the bound at r. When the radius is too small for that (under a quarter of a
/// millionth of the norms), `None`: use [`f32_distance_error`].
#[must_use]
fn f32_distance_error_near(dim: usize, norms: f64, r2: f64) -> Option<f64> {
    let u = 1.01 * 2f64.powi(-24);
    let r = r2.sqrt();
    if u * norms > 0.25 * r {
        return None;
    }
    let delta = u * (norms + r);
    let error =
        2.0 * r * delta + delta * delta + (dim as f64 + 1.0) * u * (r + delta) * (r + delta);
    Some(2.0 * error)
}

/// Points per leaf: small enough to prune well, large enough for vectorized leaf scans to pay.
const LEAF_SIZE: usize = 64;

pub struct KdTree {
    dim: usize,
    /// Points reordered so every node owns a contiguous range, row-major.
    points: Vec<f64>,
    /// `order[i]` is the caller's index of reordered point `i`.
    order: Vec<usize>,
    /// `points` in fixed point, `round(x · scale)`, dimension-major like `columns`.
    fixed: Vec<i64>,
    /// `points` in single precision, dimension-major: coordinate k of reordered point i at
    /// `k · stride + i`, so a leaf's coordinates along one axis are contiguous. Each column is
    /// padded with `BLOCK` zeros, so a block read from any leaf stays in bounds.
    columns: Vec<f32>,
    /// Length of one padded column: n + `BLOCK`.
    stride: usize,
    scale: f64,
    nodes: Vec<Node>,
    /// The axes the tree splits along and bounds its nodes in (see [`Axes`]).
    axes: Axes,
    /// The largest absolute coordinate of the points (at least 1): with the query's, it bounds
    /// the rounding errors of distances ([`KdTree::tolerances`]).
    max_abs: f64,
    /// The largest norm of a point (slightly over): with the query's, it bounds the rounding
    /// errors of distances near the radius ([`f32_distance_error_near`]).
    max_norm: f64,
    /// Per node: bounding-box low corner and high corner in the tree's axes, each `dim` wide.
    lo: Vec<f64>,
    hi: Vec<f64>,
    /// Per node: fixed-point coordinate sums, `dim` wide.
    sum: Vec<i128>,
}

/// An exact sum of points: fixed-point coordinates and a count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointSum {
    pub sum: Vec<i128>,
    pub count: usize,
}

#[derive(Clone, Copy)]
struct Node {
    start: usize,
    end: usize,
    /// Children, or `None` for a leaf.
    children: Option<(usize, usize)>,
}

/// The principal axes of the points: the tree splits and bounds its nodes in coordinates
/// z = R·(x − mean). Pass-rate vectors are strongly correlated across the ladder, so axis-aligned
/// boxes in x fit them loosely; in z they fit far more tightly, and a query can skip or take whole
/// more subtrees. Distances are only compared in z with a margin: whether a point is in range is
/// always decided from its own coordinates x, exactly as without the rotation.
struct Axes {
    mean: Vec<f64>,
    /// Row-major d × d; row k is the k-th axis (a unit vector).
    rotation: Vec<f64>,
}

impl Axes {
    /// The eigenvectors of the points' covariance; the identity when they cannot be computed.
    fn principal(points: &[f64], dim: usize) -> Axes {
        let identity = || Axes {
            mean: vec![0.0; dim],
            rotation: (0..dim * dim)
                .map(|i| if i / dim == i % dim { 1.0 } else { 0.0 })
                .collect(),
        };
        let n = points.len() / dim;
        if n < 2 || dim < 2 {
            return identity();
        }
        let mut mean = vec![0.0; dim];
        for p in points.chunks_exact(dim) {
            for (m, x) in mean.iter_mut().zip(p) {
                *m += x / n as f64;
            }
        }
        let mut cov = ndarray::Array2::<f64>::zeros((dim, dim));
        for p in points.chunks_exact(dim) {
            for i in 0..dim {
                for j in 0..=i {
                    cov[[i, j]] += (p[i] - mean[i]) * (p[j] - mean[j]);
                }
            }
        }
        for i in 0..dim {
            for j in 0..i {
                cov[[j, i]] = cov[[i, j]];
            }
        }
        match linfa_linalg::eigh::EighInto::eigh_into(cov) {
            Ok((_, vectors)) if vectors.iter().all(|v| v.is_finite()) => Axes {
                mean,
                rotation: (0..dim)
                    .flat_map(|k| (0..dim).map(move |i| (k, i)))
                    .map(|(k, i)| vectors[[i, k]])
                    .collect(),
            },
            _ => identity(),
        }
    }

    fn rotate(&self, x: &[f64], out: &mut [f64]) {
        let d = out.len();
        for (k, z) in out.iter_mut().enumerate() {
            let row = &self.rotation[k * d..][..d];
            *z = row
                .iter()
                .zip(x)
                .zip(&self.mean)
                .map(|((r, x), m)| r * (x - m))
                .sum();
        }
    }
}

impl KdTree {
    /// Builds the tree over `n = points.len() / dim` points stored row-major.
    #[must_use]
    pub fn new(points: &[f64], dim: usize) -> KdTree {
        assert!(
            dim > 0 && points.len().is_multiple_of(dim),
            "points must be n × dim"
        );
        let n = points.len() / dim;
        let mut order: Vec<usize> = (0..n).collect();
        // The largest power of two that keeps every |x| · scale at most 2^57, so that the
        // `BLOCK / LANES` values one lane of a leaf sum adds up fit in an i64.
        let max_abs = points.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        let scale = 2f64.powi(57 - max_abs.log2().ceil() as i32);
        let axes = Axes::principal(points, dim);
        let mut rotated = vec![0.0; points.len()];
        for (x, z) in points.chunks_exact(dim).zip(rotated.chunks_exact_mut(dim)) {
            axes.rotate(x, z);
        }
        let mut tree = KdTree {
            dim,
            points: Vec::new(),
            order: Vec::new(),
            fixed: Vec::new(),
            columns: Vec::new(),
            stride: n + BLOCK,
            scale,
            nodes: Vec::new(),
            axes,
            max_abs,
            max_norm: points.chunks_exact(dim).map(norm).fold(0.0, f64::max) * (1.0 + 1e-9),
            lo: Vec::new(),
            hi: Vec::new(),
            sum: Vec::new(),
        };
        if n > 0 {
            tree.build(&rotated, &mut order, 0, n);
        }
        tree.points = order
            .iter()
            .flat_map(|&i| points[i * dim..(i + 1) * dim].iter().copied())
            .collect();
        // Past the n points, `get` finds nothing: the padding.
        let column = |k: usize| {
            let points = &tree.points;
            (0..n + BLOCK).map(move |i| points.get(i * dim + k).copied())
        };
        tree.columns = (0..dim)
            .flat_map(|k| column(k).map(|x| x.map_or(0.0, |x| x as f32)))
            .collect();
        tree.fixed = (0..dim)
            .flat_map(|k| column(k).map(|x| x.map_or(0, |x| (x * scale).round() as i64)))
            .collect();
        tree.order = order;
        let sums: Vec<i128> = (0..tree.nodes.len())
            .flat_map(|node| {
                let Node { start, end, .. } = tree.nodes[node];
                (0..dim)
                    .map(|k| {
                        tree.fixed[k * tree.stride + start..k * tree.stride + end]
                            .iter()
                            .map(|&v| i128::from(v))
                            .sum::<i128>()
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        tree.sum = sums;
        tree
    }

    /// The mean of a sum, rounded once from the exact fixed-point value.
    #[must_use]
    pub fn mean(&self, sum: &PointSum) -> Vec<f64> {
        let denom = self.scale * sum.count as f64;
        sum.sum.iter().map(|&s| s as f64 / denom).collect()
    }

    /// Builds the node over `order[start..end]` of `points` (rotated coordinates) and returns its
    /// id.
    fn build(&mut self, points: &[f64], order: &mut [usize], start: usize, end: usize) -> usize {
        let d = self.dim;
        let id = self.nodes.len();
        self.nodes.push(Node {
            start,
            end,
            children: None,
        });
        let mut lo = vec![f64::INFINITY; d];
        let mut hi = vec![f64::NEG_INFINITY; d];
        for &i in &order[start..end] {
            for k in 0..d {
                let x = points[i * d + k];
                lo[k] = lo[k].min(x);
                hi[k] = hi[k].max(x);
            }
        }
        let (split_dim, spread) =
            (0..d)
                .map(|k| (k, hi[k] - lo[k]))
                .fold(
                    (0, -1.0),
                    |best, cur| if cur.1 > best.1 { cur } else { best },
                );
        self.lo.extend_from_slice(&lo);
        self.hi.extend_from_slice(&hi);
        if end - start > LEAF_SIZE && spread > 0.0 {
            let mid = start + (end - start) / 2;
            order[start..end].select_nth_unstable_by(mid - start, |&a, &b| {
                points[a * d + split_dim]
                    .total_cmp(&points[b * d + split_dim])
                    .then(a.cmp(&b))
            });
            let left = self.build(points, order, start, mid);
            let right = self.build(points, order, mid, end);
            self.nodes[id].children = Some((left, right));
        }
        id
    }

    /// For a query at `q`: (margin, f32 error). A box test in the rotated axes is trusted only when
    /// it clears the radius by the margin (rotated coordinates carry relative errors of about d·ε;
    /// 1e-9 of the squared scale is far beyond them). A point's single-precision squared distance
    /// decides it only when it clears r² by the f32 error ([`f32_distance_error`]); the rest are
    /// decided exactly. Both grow with the coordinates' size, the query's included (a bin seed may
    /// lie outside the points' range).
    fn tolerances(&self, q: &[f64]) -> (f64, f64) {
        let m = q.iter().fold(self.max_abs, |m, x| m.max(x.abs()));
        (
            1e-9 * (2.0 * m) * (2.0 * m) * self.dim as f64,
            f32_distance_error(self.dim, m),
        )
    }

    /// Number of points.
    #[must_use]
    pub fn len(&self) -> usize {
        self.order.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    // Inlined into the multiversioned kernel, so it is compiled for the kernel's instruction set.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn box_distances(&self, width: impl Width, node: usize, q: &[f64]) -> (f64, f64) {
        let d = width.get();
        let (lo, hi, q) = (
            &self.lo[node * d..][..d],
            &self.hi[node * d..][..d],
            &q[..d],
        );
        let mut near = 0.0;
        let mut far = 0.0;
        for k in 0..d {
            let (gap2, reach2) = axis_distances(lo[k], hi[k], q[k]);
            near += gap2;
            far += reach2;
        }
        (near, far)
    }

    /// [`KdTree::box_distances`] for a group of queries at once, one per vector lane: `zs` holds
    /// their rotated coordinates axis-major (`k · TRAVERSAL + lane`). Returns two bit sets: the
    /// queries whose nearest squared distance is within `skip` (the node may hold points in
    /// range), and those whose farthest is below `whole` (every point is in range). Each lane
    /// adds its terms in the same order as `box_distances`, so the results are the same.
    // Inlined into the multiversioned kernel, so it is compiled for the kernel's instruction set.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn box_tests(
        &self,
        width: impl Width,
        node: usize,
        zs: &[f64],
        (skip, whole): (&[f64], &[f64]),
    ) -> (u8, u8) {
        let d = width.get();
        let (lo, hi) = (&self.lo[node * d..][..d], &self.hi[node * d..][..d]);
        let mut near = [0.0; GROUP];
        let mut far = [0.0; GROUP];
        for k in 0..d {
            let z = &zs[k * TRAVERSAL..][..GROUP];
            for l in 0..GROUP {
                let (gap2, reach2) = axis_distances(lo[k], hi[k], z[l]);
                near[l] += gap2;
                far[l] += reach2;
            }
        }
        let mut bits = (0u8, 0u8);
        for l in 0..GROUP {
            bits.0 |= u8::from(near[l] <= skip[l]) << l;
            bits.1 |= u8::from(far[l] < whole[l]) << l;
        }
        bits
    }

    /// The exact sum and count of every point within distance `radius` of `q` (inclusive).
    #[must_use]
    pub fn range_sum(&self, q: &[f64], radius: f64) -> PointSum {
        self.range_sums(&[q], radius)
            .pop()
            .expect("one sum per query")
    }

    /// [`KdTree::range_sum`] for each of `queries`. Nearby queries are cheaper together than
    /// apart: they share the tree's traversal and each leaf's trip from memory.
    #[must_use]
    pub fn range_sums(&self, queries: &[&[f64]], radius: f64) -> Vec<PointSum> {
        // Dimensions known at compile time let the distance loops unroll and vectorize.
        macro_rules! dispatch {
            ($($d:literal)*) => {
                queries
                    .chunks(TRAVERSAL)
                    .flat_map(|queries| match self.dim {
                        $($d => range_sums_in(self, Const::<$d>, queries, radius),)*
                        d => range_sums_in(self, Dyn(d), queries, radius),
                    })
                    .collect()
            };
        }
        dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
    }

    /// The leaf a query at `q` falls in, or nearest to: an order in which nearby queries are
    /// adjacent, for batching them.
    #[must_use]
    pub fn leaf_of(&self, q: &[f64]) -> usize {
        if self.is_empty() {
            return 0;
        }
        let mut z = vec![0.0; self.dim];
        self.axes.rotate(q, &mut z);
        let mut node = 0;
        while let Some((left, right)) = self.nodes[node].children {
            let (l, _) = self.box_distances(Dyn(self.dim), left, &z);
            let (r, _) = self.box_distances(Dyn(self.dim), right, &z);
            node = if r < l { right } else { left };
        }
        node
    }

    /// Which of the `len` points from `block` on lie within `r2` of `q`: all ones or zero per
    /// point, zero past `len`. Squared distances are computed in single precision one axis at a
    /// time (the loops vectorize); only those within the f32 error of r² (`inside`..=`outside`) are
    /// recomputed exactly.
    #[allow(clippy::too_many_arguments)]
    // Inlined into the multiversioned kernel, so it is compiled for the kernel's instruction set.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn block_mask(
        &self,
        width: impl Width,
        block: usize,
        len: usize,
        q: &[f64],
        q32: &[f32],
        r2: f64,
        (inside, outside): (f32, f32),
    ) -> [i64; BLOCK] {
        let d = width.get();
        let mut d2 = [0.0f32; BLOCK];
        f32_squared_distances_into(&self.columns, self.stride, block, &q32[..d], &mut d2);
        for far in &mut d2[len..] {
            *far = f32::INFINITY;
        }
        let mut mask = [0i64; BLOCK];
        let mut unsure = false;
        for (m, &d2) in mask.iter_mut().zip(&d2) {
            *m = -i64::from(d2 < inside);
            unsure |= u8::from(d2 >= inside) & u8::from(d2 <= outside) != 0;
        }
        if unsure {
            for (j, (m, &d2)) in mask.iter_mut().zip(&d2).enumerate() {
                if d2 >= inside && d2 <= outside {
                    let i = block + j;
                    *m = -i64::from(squared_distance(&self.points[i * d..][..d], q) <= r2);
                }
            }
        }
        mask
    }

    /// Adds a node's stored sum and count to `out`.
    // Inlined into the multiversioned kernel, so it is compiled for the kernel's instruction set.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn add_node(&self, node: usize, out: &mut PointSum) {
        let d = self.dim;
        for (s, v) in out.sum.iter_mut().zip(&self.sum[node * d..][..d]) {
            *s += v;
        }
        out.count += self.nodes[node].end - self.nodes[node].start;
    }

    /// The caller's index of reordered point `i`, and its coordinates.
    pub(crate) fn point(&self, i: usize) -> (usize, &[f64]) {
        (self.order[i], &self.points[i * self.dim..][..self.dim])
    }

    /// Single-precision squared distances from `q` to every point, in the tree's order, and a
    /// bound on how far each is from the exact squared distance.
    pub(crate) fn f32_squared_distances(&self, q: &[f64], out: &mut Vec<f32>) -> f64 {
        out.clear();
        out.resize(self.len(), 0.0);
        let q32: Vec<f32> = q.iter().map(|&x| x as f32).collect();
        column_distances(&self.columns, self.stride, &q32, out);
        self.tolerances(q).1
    }

    /// Calls `visit` with the caller's index of every point within `radius` of `q` (inclusive).
    ///
    /// Its traversal repeats `range_sum_in`'s on purpose: one generic traversal with a visitor
    /// closure measured 36% slower on the mmlu benchmark (`just bench`).
    pub fn within(&self, q: &[f64], radius: f64, mut visit: impl FnMut(usize)) {
        if self.is_empty() {
            return;
        }
        let r2 = radius * radius;
        let d = self.dim;
        let mut z = vec![0.0; d];
        self.axes.rotate(q, &mut z);
        let (margin, _) = self.tolerances(q);
        let (skip, whole) = (r2 + margin, r2 - margin);
        let mut stack = vec![0usize];
        while let Some(node) = stack.pop() {
            let (near, far) = self.box_distances(Dyn(d), node, &z);
            if near > skip {
                continue;
            }
            let Node {
                start,
                end,
                children,
            } = self.nodes[node];
            match children {
                Some((left, right)) if far >= whole => {
                    stack.push(right);
                    stack.push(left);
                }
                _ => {
                    for i in start..end {
                        if far < whole || squared_distance(&self.points[i * d..][..d], q) <= r2 {
                            visit(self.order[i]);
                        }
                    }
                }
            }
        }
    }
}

/// Along one axis, from `z` to the interval [`lo`, `hi`]: the squared distance to its nearest
/// point and to its farthest end, the terms of [`KdTree::box_distances`].
// Inlined into the multiversioned kernel, so it is compiled for the kernel's instruction set.
#[allow(clippy::inline_always)]
#[inline(always)]
fn axis_distances(lo: f64, hi: f64, z: f64) -> (f64, f64) {
    let gap = larger(larger(lo - z, z - hi), 0.0);
    let reach = larger((z - lo).abs(), (hi - z).abs());
    (gap * gap, reach * reach)
}

/// The larger of two numbers that are not NaN: one vector max, where `f64::max` adds NaN handling
/// to each.
#[allow(clippy::inline_always)]
#[inline(always)]
fn larger(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// Queries one traversal carries, as the bits of a `u64`; [`KdTree::range_sums`] sends more in
/// several.
const TRAVERSAL: usize = 64;

/// Queries whose box tests run together, one per vector lane ([`KdTree::box_tests`]).
const GROUP: usize = 8;

/// Points a leaf scan handles at once: a leaf's worth, with fixed-size loops that vectorize.
const BLOCK: usize = LEAF_SIZE;

/// Points whose squared distances [`f32_squared_distances_into`] accumulates together across the
/// axes; at most `BLOCK`, the columns' padding.
const CHUNK: usize = 32;

/// Independent i64 accumulators per axis in [`masked_add`]; a leaf scan adds `BLOCK / LANES` = 8
/// values of at most 2^57 in absolute value to each, at most 2^60.
const LANES: usize = 8;

/// Leaf scans a query's lanes take before they are added into its i128 sums: 7 × 2^60 < 2^63, so
/// no lane overflows. Adding lanes into i128 after every scan took a fifth of the traversal.
const SCANS_PER_FLUSH: u32 = 7;

/// Adds the fixed-point values whose mask is all ones into `lanes`. Branch-free: whether a point is
/// in range is as unpredictable as a coin where the ball cuts through a leaf.
// Inlined into the multiversioned kernel, so it is compiled for the kernel's instruction set.
#[allow(clippy::inline_always)]
#[inline(always)]
fn masked_add(values: &[i64], mask: &[i64; BLOCK], lanes: &mut [i64; LANES]) {
    for (v, m) in values[..BLOCK]
        .chunks_exact(LANES)
        .zip(mask.chunks_exact(LANES))
    {
        for l in 0..LANES {
            // Cannot overflow (see `LANES` and `SCANS_PER_FLUSH`); `wrapping_add` says so to the
            // compiler, so the loop vectorizes with overflow checks on.
            lanes[l] = lanes[l].wrapping_add(v[l] & m[l]);
        }
    }
}

/// A query's partial sums during a traversal: exact i128 sums, and per axis `LANES` i64
/// accumulators that leaf scans add into and that are emptied into the sums every
/// [`SCANS_PER_FLUSH`] scans.
struct Partial {
    total: PointSum,
    lanes: Vec<[i64; LANES]>,
    scans: u32,
}

impl Partial {
    fn flush(&mut self) {
        for (s, lanes) in self.total.sum.iter_mut().zip(&mut self.lanes) {
            *s += lanes.iter().map(|&l| i128::from(l)).sum::<i128>();
            *lanes = [0; LANES];
        }
        self.scans = 0;
    }
}

/// One query's constants during a batched traversal (its box tests' are in `range_sums_in`).
struct Query<'a> {
    q: &'a [f64],
    q32: Vec<f32>,
    /// Single-precision point tests: in below `inside`, out above `outside`, else exact.
    inside: f32,
    outside: f32,
}

/// [`KdTree::range_sums`]'s work, compiled once more for each listed instruction set and picked
/// at run time: the leaf scans are wide vector loops, which AVX2 (and AVX-512) run 2–4× wider
/// than the SSE2 every x86-64 has.
///
/// The queries descend the tree together: a node is tested against every query still interested
/// in it, and a leaf's points are scanned for all of them while they are in cache. On large inputs
/// the leaf scans are bound by memory, not arithmetic, so sharing each load across nearby queries
/// is most of the speed.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx2+fma",
    "x86_64+avx2+fma"
))]
fn range_sums_in<W: Width>(
    tree: &KdTree,
    width: W,
    queries: &[&[f64]],
    radius: f64,
) -> Vec<PointSum> {
    let d = width.get();
    let mut out: Vec<Partial> = queries
        .iter()
        .map(|_| Partial {
            total: PointSum {
                sum: vec![0; d],
                count: 0,
            },
            lanes: vec![[0; LANES]; d],
            scans: 0,
        })
        .collect();
    let done = |out: Vec<Partial>| {
        out.into_iter()
            .map(|mut partial| {
                partial.flush();
                partial.total
            })
            .collect()
    };
    if tree.is_empty() || queries.is_empty() {
        return done(out);
    }
    let r2 = radius * radius;
    let mut z = vec![0.0; d];
    // Rotated queries, axis-major: query j's coordinate k at `k · TRAVERSAL + j`, so a group's
    // coordinates along one axis are one vector.
    let mut zs = vec![0.0; d * TRAVERSAL];
    let mut skip = [f64::NEG_INFINITY; TRAVERSAL];
    let mut whole = [f64::NEG_INFINITY; TRAVERSAL];
    let queries: Vec<Query> = queries
        .iter()
        .enumerate()
        .map(|(j, &q)| {
            let q = &q[..d];
            tree.axes.rotate(q, &mut z);
            for (k, &zk) in z.iter().enumerate() {
                zs[k * TRAVERSAL + j] = zk;
            }
            let (margin, f32_error) = tree.tolerances(q);
            let q_norm = norm(q) * (1.0 + 1e-9);
            let f32_error =
                f32_distance_error_near(d, tree.max_norm + q_norm, r2).unwrap_or(f32_error);
            skip[j] = r2 + margin;
            whole[j] = r2 - margin;
            Query {
                q,
                q32: q.iter().map(|&x| x as f32).collect(),
                inside: (r2 - f32_error) as f32,
                outside: (r2 + f32_error) as f32,
            }
        })
        .collect();
    let groups = queries.len().div_ceil(GROUP);
    // Each frame: a node, and the queries (bits) that reached it.
    let mut stack: Vec<(usize, u64)> = vec![(0, u64::MAX >> (TRAVERSAL - queries.len()))];
    while let Some((node, reached)) = stack.pop() {
        let Node {
            start,
            end,
            children,
        } = tree.nodes[node];
        let mut partial = 0u64;
        for g in 0..groups {
            let reached = (reached >> (g * GROUP)) as u8;
            if reached == 0 {
                continue;
            }
            let at = g * GROUP;
            let (near, far) = tree.box_tests(
                width,
                node,
                &zs[at..],
                (&skip[at..][..GROUP], &whole[at..][..GROUP]),
            );
            let mut inside = reached & near & far;
            partial |= u64::from(reached & near & !far) << at;
            while inside != 0 {
                let j = at + inside.trailing_zeros() as usize;
                inside &= inside - 1;
                tree.add_node(node, &mut out[j].total);
            }
        }
        if partial == 0 {
            continue;
        }
        if let Some((left, right)) = children {
            stack.push((right, partial));
            stack.push((left, partial));
            continue;
        }
        // A leaf of identical points can be longer than a block.
        for block in (start..end).step_by(BLOCK) {
            let len = BLOCK.min(end - block);
            let mut queries_here = partial;
            while queries_here != 0 {
                let j = queries_here.trailing_zeros() as usize;
                queries_here &= queries_here - 1;
                let query = &queries[j];
                let out = &mut out[j];
                let mask = tree.block_mask(
                    width,
                    block,
                    len,
                    query.q,
                    &query.q32,
                    r2,
                    (query.inside, query.outside),
                );
                let count = mask.iter().filter(|&&m| m != 0).count();
                if count == 0 {
                    continue;
                }
                if count == end - start {
                    tree.add_node(node, &mut out.total);
                    continue;
                }
                out.total.count += count;
                for (k, lanes) in out.lanes.iter_mut().enumerate() {
                    masked_add(
                        &tree.fixed[k * tree.stride + block..][..BLOCK],
                        &mask,
                        lanes,
                    );
                }
                out.scans += 1;
                if out.scans == SCANS_PER_FLUSH {
                    out.flush();
                }
            }
        }
    }
    done(out)
}

/// [`f32_squared_distances_into`] from the first point on, compiled for wide vectors like
/// [`range_sums_in`].
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx2+fma",
    "x86_64+avx2+fma"
))]
fn column_distances(columns: &[f32], stride: usize, q: &[f32], out: &mut [f32]) {
    f32_squared_distances_into(columns, stride, 0, q, out);
}

/// `out[j] = Σ_k (columns[k · stride + first + j] − q[k])²` in single precision: the one place
/// single-precision distances are computed, so [`f32_distance_error`] bounds them all. A chunk of
/// points at a time, so its sums stay in registers across the axes; a last partial chunk reads
/// into the columns' padding.
// Inlined into the multiversioned kernels, so it is compiled for their instruction sets.
#[allow(clippy::inline_always)]
#[inline(always)]
fn f32_squared_distances_into(
    columns: &[f32],
    stride: usize,
    first: usize,
    q: &[f32],
    out: &mut [f32],
) {
    let chunk = |c: usize| {
        let mut acc = [0.0f32; CHUNK];
        for (k, &qk) in q.iter().enumerate() {
            let column = &columns[k * stride + first + c * CHUNK..][..CHUNK];
            for (a, &x) in acc.iter_mut().zip(column) {
                let t = x - qk;
                *a += t * t;
            }
        }
        acc
    };
    // Whole chunks apart from the remainder: with one variable-length loop for both, the leaf
    // scans no longer vectorized and the mmlu benchmark ran 1.9× slower.
    let last = out.len() / CHUNK;
    let mut chunks = out.chunks_exact_mut(CHUNK);
    for (c, out) in chunks.by_ref().enumerate() {
        out.copy_from_slice(&chunk(c));
    }
    let rest = chunks.into_remainder();
    let len = rest.len();
    if len > 0 {
        rest.copy_from_slice(&chunk(last)[..len]);
    }
}

/// A dimension, known at compile time (`Const`) or only at run time (`Dyn`).
trait Width: Copy {
    fn get(self) -> usize;
}

#[derive(Clone, Copy)]
struct Const<const D: usize>;

impl<const D: usize> Width for Const<D> {
    #[inline]
    fn get(self) -> usize {
        D
    }
}

#[derive(Clone, Copy)]
struct Dyn(usize);

impl Width for Dyn {
    #[inline]
    fn get(self) -> usize {
        self.0
    }
}

/// Squared Euclidean distance.
#[must_use]
pub fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Euclidean norm.
#[must_use]
pub(crate) fn norm(x: &[f64]) -> f64 {
    x.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic scatter of points in [0, 1]^d; every 7th point is a copy of (0.5, …).
    fn points(n: usize, d: usize) -> Vec<f64> {
        let mut state = 12345u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .flat_map(|i| {
                if i % 7 == 6 {
                    vec![0.5; d]
                } else {
                    (0..d).map(|_| next()).collect()
                }
            })
            .collect()
    }

    /// The fixed-point sum and count of the points within `radius` of `q`, one by one.
    fn brute_force_sum(tree: &KdTree, pts: &[f64], q: &[f64], radius: f64) -> PointSum {
        let d = q.len();
        let mut want = PointSum {
            sum: vec![0; d],
            count: 0,
        };
        for p in pts.chunks_exact(d) {
            if squared_distance(p, q) <= radius * radius {
                want.count += 1;
                for (s, x) in want.sum.iter_mut().zip(p) {
                    *s += (x * tree.scale).round() as i128;
                }
            }
        }
        want
    }

    #[test]
    fn range_queries_match_brute_force() {
        for d in [1, 2, 8] {
            let pts = points(500, d);
            let tree = KdTree::new(&pts, d);
            for (qi, radius) in [(0, 0.1), (3, 0.3), (7, 0.0), (42, 2.0), (100, 0.25)] {
                let q = &pts[qi * d..(qi + 1) * d];
                let mut want_sum = vec![0.0; d];
                let mut want: Vec<usize> = Vec::new();
                for (i, p) in pts.chunks(d).enumerate() {
                    if squared_distance(p, q) <= radius * radius {
                        want.push(i);
                        for k in 0..d {
                            want_sum[k] += p[k];
                        }
                    }
                }
                let got_sum = tree.range_sum(q, radius);
                assert_eq!(got_sum.count, want.len());
                if !want.is_empty() {
                    let mean = tree.mean(&got_sum);
                    for k in 0..d {
                        let want_mean = want_sum[k] / want.len() as f64;
                        assert!((mean[k] - want_mean).abs() < 1e-12, "d={d} q={qi}");
                    }
                }
                let mut got = Vec::new();
                tree.within(q, radius, |i| got.push(i));
                got.sort_unstable();
                assert_eq!(got, want, "d={d} q={qi} r={radius}");
            }
        }
    }

    #[test]
    fn batched_queries_match_brute_force() {
        // Near and far queries in one batch, in scattered order, including copies of one query
        // and a query outside the points' range, and enough of them to take several traversals:
        // each gets exactly its own count and fixed-point sum.
        let d = 8;
        let pts = points(700, d);
        let tree = KdTree::new(&pts, d);
        let far = vec![5.0; d];
        let queries: Vec<&[f64]> = [3, 500, 3, 77, 6, 699, 250]
            .into_iter()
            .chain((0..700).step_by(5))
            .map(|i| &pts[i * d..(i + 1) * d])
            .chain([&far[..]])
            .collect();
        assert!(queries.len() > 2 * TRAVERSAL);
        for radius in [0.0, 0.3, 0.9, 10.0] {
            let sums = tree.range_sums(&queries, radius);
            assert_eq!(sums.len(), queries.len());
            for (q, got) in queries.iter().zip(&sums) {
                let want = brute_force_sum(&tree, &pts, q, radius);
                assert_eq!(*got, want, "r={radius}");
                assert_eq!(*got, tree.range_sum(q, radius), "r={radius}");
            }
        }
    }

    #[test]
    fn points_exactly_at_the_radius_count_as_without_the_rotation() {
        // A correlated integer grid: many points lie at exactly 1, √2 or 2 from a grid point, where
        // the rotated box tests must defer to the exact test on the points' own coordinates.
        let d = 3;
        let pts: Vec<f64> = (0..6)
            .flat_map(|a| (0..6).flat_map(move |b| (0..3).map(move |c| [a, b, c])))
            .flat_map(|[a, b, c]| [f64::from(a), f64::from(a + b), f64::from(a + b + c)])
            .collect();
        let tree = KdTree::new(&pts, d);
        for (qi, radius) in [(40, 1.0), (57, 2f64.sqrt()), (12, 2.0), (80, 3.0)] {
            let q = &pts[qi * d..(qi + 1) * d];
            let want: Vec<usize> = (0..pts.len() / d)
                .filter(|&i| squared_distance(&pts[i * d..(i + 1) * d], q) <= radius * radius)
                .collect();
            assert_eq!(
                tree.range_sum(q, radius).count,
                want.len(),
                "q={qi} r={radius}"
            );
            let mut got = Vec::new();
            tree.within(q, radius, |i| got.push(i));
            got.sort_unstable();
            assert_eq!(got, want, "q={qi} r={radius}");
        }
    }

    #[test]
    fn queries_outside_the_points_range_are_exact_too() {
        // Bin seeds can lie outside the points' range; the error bounds must grow with the query.
        let d = 8;
        let pts = points(400, d);
        let tree = KdTree::new(&pts, d);
        for (q, radius) in [
            (vec![3.0; d], 7.5),
            (vec![-2.0; d], 6.2),
            (vec![40.0; d], 112.0),
        ] {
            let want: Vec<usize> = (0..400)
                .filter(|&i| squared_distance(&pts[i * d..(i + 1) * d], &q) <= radius * radius)
                .collect();
            assert_eq!(
                tree.range_sum(&q, radius).count,
                want.len(),
                "{q:?} {radius}"
            );
            let mut got = Vec::new();
            tree.within(&q, radius, |i| got.push(i));
            got.sort_unstable();
            assert_eq!(got, want, "{q:?} {radius}");
        }
    }

    #[test]
    fn points_within_rounding_of_the_radius_are_decided_exactly() {
        // Points at distances r·(1 + i·10⁻⁹) from the query, far closer to r than single
        // precision can tell apart: each must be counted as its double-precision distance says.
        let d = 8;
        let directions = points(300, d);
        for (q, radius) in [
            (vec![0.5; d], 0.3),
            (vec![0.2; d], 1.0),
            (vec![3.0; d], 2.5),
        ] {
            let mut pts = Vec::new();
            for (i, dir) in directions.chunks_exact(d).enumerate() {
                let dir: Vec<f64> = dir.iter().map(|x| x - 0.45).collect();
                let length = norm(&dir);
                let at = radius * (1.0 + (i as f64 - 150.0) * 1e-9);
                pts.extend(q.iter().zip(&dir).map(|(q, x)| q + x / length * at));
            }
            let tree = KdTree::new(&pts, d);
            let want = brute_force_sum(&tree, &pts, &q, radius);
            assert!(want.count > 100 && want.count < 200, "{}", want.count);
            assert_eq!(tree.range_sum(&q, radius), want, "{q:?} {radius}");
        }
    }

    #[test]
    fn empty_and_identical_points() {
        let tree = KdTree::new(&[], 3);
        assert_eq!(tree.range_sum(&[0.0; 3], 1.0).count, 0);
        let same = vec![0.25; 3 * 100];
        let tree = KdTree::new(&same, 3);
        let sum = tree.range_sum(&[0.25; 3], 0.0);
        assert_eq!(sum.count, 100);
        // Exact sums: the mean of identical points is the point itself, bit for bit.
        assert_eq!(tree.mean(&sum), [0.25; 3]);
    }

    #[test]
    fn sums_do_not_depend_on_the_query_point() {
        // Two queries covering the same points give bitwise equal means.
        let pts = points(300, 4);
        let tree = KdTree::new(&pts, 4);
        let a = tree.range_sum(&[0.5; 4], 10.0);
        let b = tree.range_sum(&[0.1, 0.9, 0.3, 0.7], 10.0);
        assert_eq!(a.count, 300);
        assert_eq!(a, b);
    }
}
