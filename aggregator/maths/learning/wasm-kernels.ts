// Kernels for the tfjs wasm backend: the missing Conv2DBackpropFilter, and fast paths around two slow built-ins.
//
// tfjs-backend-wasm 4.22 registers Conv2D and Conv2DBackpropInput but no Conv2DBackpropFilter, so
// the gradient of a conv2d with respect to its filter fails there. The filter gradient is
//   dW[i, j, c, o] = sum_{n, y, x} xpad[n, y*sh + i, x*sw + j, c] * dy[n, y, x, o],
// a single matrix product once the input is unfolded (im2col): for each filter tap (i, j) a
// strided slice of the padded input gives an [N, outH, outW, C] block; the kh*kw blocks side by
// side are the [N*outH*outW, kh*kw*C] patch matrix P, and dW = reshape((dy^T P)^T). Pad, slice,
// concat, transpose, reshape and matMul all run natively on wasm.
//
// Measured on this backend (one thread): its BatchMatMul sends a product through XNNPACK only
// when neither operand is transposed; with transposeA or transposeB it runs a plain loop 4 to 13
// times slower (a [784x32]^T [32x200] weight gradient: 4.35 ms against 0.87 ms with the transpose
// materialised). Every dense layer's backward pass asks for such products. Its
// Conv2DBackpropInput is likewise a plain loop, 10x slower than the equivalent forward Conv2D.
// The fast paths below rewrite those cases into the XNNPACK ones and defer to the original
// kernels otherwise; the results agree with the cpu backend to float32 rounding.
import type * as tfjs from "@tensorflow/tfjs";

type Tf = typeof tfjs;

type Shape4 = [number, number, number, number];
type Padding = "valid" | "same" | number | tfjs.backend_util.ExplicitPadding;

export interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: Padding;
  dataFormat?: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  filterShape: Shape4;
}

/**
 * The filter gradient of conv2d(x, W) given the output gradient dy, by im2col and one matMul, with
 * tfjs's own shape rules (computeConv2DInfo, as the cpu kernel uses them). Works on any backend;
 * registered for wasm by registerWasmKernels. Returns a new tensor; intermediates are freed.
 */
export function conv2dBackpropFilterIm2col(tf: Tf, x: tfjs.Tensor4D, dy: tfjs.Tensor4D, attrs: Conv2DBackpropFilterAttrs): tfjs.Tensor4D {
  return tf.tidy(() => {
    const channelsFirst = attrs.dataFormat === "NCHW";
    // NCHW is turned into NHWC once, so the unfolding below has a single layout to handle.
    const xs = channelsFirst ? tf.transpose(x, [0, 2, 3, 1]) : x;
    const dys = channelsFirst ? tf.transpose(dy, [0, 2, 3, 1]) : dy;
    const info = tf.backend_util.computeConv2DInfo(
      xs.shape as Shape4,
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      "channelsLast",
    );
    const { batchSize: n, inHeight, inWidth, inChannels: c, outHeight, outWidth, outChannels, strideHeight, strideWidth } = info;
    const { filterHeight: kh, filterWidth: kw } = info;
    const { top, left } = info.padInfo;
    // Rows/columns the last tap reaches; padding on the far side only needs to cover that.
    const needH = (outHeight - 1) * strideHeight + kh;
    const needW = (outWidth - 1) * strideWidth + kw;
    const bottom = Math.max(0, needH - (inHeight + top));
    const right = Math.max(0, needW - (inWidth + left));
    const xp =
      top > 0 || left > 0 || bottom > 0 || right > 0
        ? tf.pad(xs, [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ])
        : xs;
    const taps: tfjs.Tensor4D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        taps.push(
          strideHeight === 1 && strideWidth === 1
            ? tf.slice(xp, [0, i, j, 0], [n, outHeight, outWidth, c])
            : (tf.stridedSlice(
                xp,
                [0, i, j, 0],
                [n, i + needH - kh + 1, j + needW - kw + 1, c],
                [1, strideHeight, strideWidth, 1],
              ) as tfjs.Tensor4D),
        );
      }
    }
    const rows = n * outHeight * outWidth;
    const patches = tf.reshape(taps.length === 1 ? taps[0] : tf.concat(taps, 3), [rows, kh * kw * c]);
    // dW^T = dy^T P with dy^T materialised, so that no operand of the product is transposed.
    const dyT = tf.transpose(tf.reshape(dys, [rows, outChannels]));
    const gradT = tf.matMul(dyT, patches);
    return tf.reshape(tf.transpose(gradT), [kh, kw, c, outChannels]);
  });
}

/**
 * The input gradient of a stride-1 NHWC conv2d as a forward convolution: dx = conv2d(dy, W')
 * where W' is W rotated by 180 degrees with its in/out channels swapped, and dy padded by
 * (k - 1 - pad) on each side. Returns undefined for cases it does not cover (strides other than 1,
 * NCHW, padding wider than the kernel), which the caller sends to the original kernel.
 */
export function conv2dBackpropInputAsConv(
  tf: Tf,
  dy: tfjs.Tensor4D,
  filter: tfjs.Tensor4D,
  attrs: {
    strides: number | [number, number];
    pad: Padding;
    dataFormat?: "NHWC" | "NCHW";
    dimRoundingMode?: "floor" | "round" | "ceil";
    inputShape: Shape4;
  },
): tfjs.Tensor4D | undefined {
  if (attrs.dataFormat === "NCHW") return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as Shape4,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return undefined;
  const { filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth } = info;
  const { top, left } = info.padInfo;
  const padTop = kh - 1 - top;
  const padLeft = kw - 1 - left;
  // The far-side padding follows from the sizes: a valid conv of the padded dy must give inHeight rows.
  const padBottom = inHeight + kh - 1 - outHeight - padTop;
  const padRight = inWidth + kw - 1 - outWidth - padLeft;
  if (Math.min(padTop, padLeft, padBottom, padRight) < 0) return undefined;
  return tf.tidy(() => {
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    return tf.conv2d(dy, flipped as tfjs.Tensor4D, 1, [
      [0, 0],
      [padTop, padBottom],
      [padLeft, padRight],
      [0, 0],
    ]);
  });
}

/** Marks the kernel functions this module installed, so a second registration is a no-op. */
const OURS = Symbol("dsain-wasm-kernel");

type KernelArgs = { inputs: Record<string, tfjs.TensorInfo>; backend: tfjs.KernelBackend; attrs?: tfjs.NamedAttrMap };

function isOurs(tf: Tf, kernelName: string): boolean {
  const k = tf.getKernel(kernelName, "wasm") as { kernelFunc: object } | undefined;
  return k !== undefined && (k.kernelFunc as Record<symbol, unknown>)[OURS] === true;
}

/**
 * Kernels receive bare TensorInfos; ops need Tensors. Each wrapper takes its own reference on the
 * backend data (makeTensorFromTensorInfo alone does not), so disposing it leaves the caller's
 * tensor intact.
 */
function wrapInfo<T extends tfjs.Tensor>(tf: Tf, info: tfjs.TensorInfo, backend: tfjs.KernelBackend): T {
  const t = tf.engine().makeTensorFromTensorInfo(info, backend) as T;
  backend.incRef(info.dataId);
  return t;
}

function install(tf: Tf, kernelName: string, kernelFunc: (args: KernelArgs) => tfjs.TensorInfo | tfjs.Tensor, setupFunc?: unknown): void {
  (kernelFunc as unknown as Record<symbol, boolean>)[OURS] = true;
  if (tf.getKernel(kernelName, "wasm") !== undefined) tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel({
    kernelName,
    backendName: "wasm",
    kernelFunc: kernelFunc as unknown as tfjs.KernelFunc,
    ...(setupFunc !== undefined ? { setupFunc: setupFunc as tfjs.KernelSetupFunc } : {}),
  });
}

/**
 * Registers, for the wasm backend, the missing Conv2DBackpropFilter (unless a later tfjs release
 * brings its own) and the fast paths for BatchMatMul with transposed operands and for stride-1
 * Conv2DBackpropInput. Safe to call repeatedly.
 */
export function registerWasmKernels(tf: Tf): void {
  if (tf.getKernel("Conv2DBackpropFilter", "wasm") === undefined) {
    install(tf, "Conv2DBackpropFilter", ({ inputs, attrs, backend }) => {
      const x = wrapInfo<tfjs.Tensor4D>(tf, inputs.x, backend);
      const dy = wrapInfo<tfjs.Tensor4D>(tf, inputs.dy, backend);
      try {
        // A Tensor (not a bare TensorInfo) is returned: the engine adopts it as the kernel output.
        return conv2dBackpropFilterIm2col(tf, x, dy, attrs as unknown as Conv2DBackpropFilterAttrs);
      } finally {
        tf.dispose([x, dy]);
      }
    });
  }

  const matMul = tf.getKernel("BatchMatMul", "wasm");
  const transpose = tf.getKernel("Transpose", "wasm");
  if (matMul !== undefined && transpose !== undefined && !isOurs(tf, "BatchMatMul")) {
    const original = matMul.kernelFunc as unknown as (args: KernelArgs) => tfjs.TensorInfo;
    const transposeFunc = transpose.kernelFunc as unknown as (args: KernelArgs) => tfjs.TensorInfo;
    install(
      tf,
      "BatchMatMul",
      (args) => {
        const { a, b } = args.inputs;
        const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
        // Only plain matrices: batched products take the loop either way.
        const single = (t: tfjs.TensorInfo) => t.shape.slice(0, -2).every((d) => d === 1);
        if ((transposeA !== true && transposeB !== true) || !single(a) || !single(b)) return original(args);
        const swapLast = (t: tfjs.TensorInfo) => {
          const perm = t.shape.map((_, i) => i);
          [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
          return transposeFunc({ inputs: { x: t }, backend: args.backend, attrs: { perm } });
        };
        const at = transposeA === true ? swapLast(a) : a;
        const bt = transposeB === true ? swapLast(b) : b;
        try {
          return original({
            inputs: { a: at, b: bt },
            backend: args.backend,
            attrs: { ...args.attrs, transposeA: false, transposeB: false },
          });
        } finally {
          if (at !== a) args.backend.disposeData(at.dataId);
          if (bt !== b) args.backend.disposeData(bt.dataId);
        }
      },
      matMul.setupFunc,
    );
  }

  const backpropInput = tf.getKernel("Conv2DBackpropInput", "wasm");
  if (backpropInput !== undefined && !isOurs(tf, "Conv2DBackpropInput")) {
    const original = backpropInput.kernelFunc as unknown as (args: KernelArgs) => tfjs.TensorInfo;
    install(
      tf,
      "Conv2DBackpropInput",
      (args) => {
        const dy = wrapInfo<tfjs.Tensor4D>(tf, args.inputs.dy, args.backend);
        const filter = wrapInfo<tfjs.Tensor4D>(tf, args.inputs.filter, args.backend);
        try {
          const fast = conv2dBackpropInputAsConv(tf, dy, filter, args.attrs as unknown as Parameters<typeof conv2dBackpropInputAsConv>[3]);
          return fast ?? original(args);
        } finally {
          tf.dispose([dy, filter]);
        }
      },
      backpropInput.setupFunc,
    );
  }
}
