"""
Filtering an image: blur, edges and a sharpening kernel
=======================================================

Three classic 2-D filters applied to a photograph with fastconv's SciPy
drop-ins, and checked against SciPy itself:

* a Gaussian blur, as a separable pair of 1-D passes with
  :func:`fastconv.ndimage.convolve1d` (``scipy.ndimage.convolve1d``'s
  arguments, reflecting borders);
* the gradient magnitude from two Sobel kernels with
  :func:`fastconv.convolve2d` (``scipy.signal.convolve2d``, symmetric borders);
* an unsharp mask (image + amount x (image - blur)) from one 2-D kernel with
  :func:`fastconv.convolve` (``scipy.signal.convolve``, ``mode='same'``).

The photograph (Grace Hopper) ships with matplotlib, so nothing is
downloaded.
"""

import matplotlib.pyplot as plt
import numpy as np
import scipy.ndimage
import scipy.signal
from matplotlib.cbook import get_sample_data

import fastconv
import fastconv.ndimage

# %%
# The image: a grey-scale float32 array
# -------------------------------------
rgb = plt.imread(get_sample_data("grace_hopper.jpg", asfileobj=False))
grey = rgb[..., :3] @ np.array([0.299, 0.587, 0.114])
image = (grey / 255).astype(np.float32)
print("image", image.shape, image.dtype)

# %%
# Gaussian blur: two 1-D passes
# -----------------------------
# A Gaussian kernel is separable: blurring rows then columns with the same
# 1-D kernel equals one 2-D convolution with its outer product, at a fraction
# of the cost.
sigma = 4.0
radius = int(3 * sigma)
t = np.arange(-radius, radius + 1, dtype=np.float32)
g = np.exp(-0.5 * (t / sigma) ** 2)
g /= g.sum()
blur = fastconv.ndimage.convolve1d(image, g, axis=0, mode="reflect")
blur = fastconv.ndimage.convolve1d(blur, g, axis=1, mode="reflect")
ref = scipy.ndimage.convolve1d(image, g, axis=0, mode="reflect")
ref = scipy.ndimage.convolve1d(ref, g, axis=1, mode="reflect")
print(f"blur: largest difference from SciPy {np.abs(blur - ref).max():.1e}")

# %%
# Edges: Sobel gradient magnitude
# -------------------------------
sobel_x = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float32)
gx = fastconv.convolve2d(image, sobel_x, mode="same", boundary="symm")
gy = fastconv.convolve2d(image, sobel_x.T, mode="same", boundary="symm")
edges = np.hypot(gx, gy)
rx = scipy.signal.convolve2d(image, sobel_x, mode="same", boundary="symm")
ry = scipy.signal.convolve2d(image, sobel_x.T, mode="same", boundary="symm")
ref = np.hypot(rx, ry)
print(f"edges: largest difference from SciPy {np.abs(edges - ref).max():.1e}")

# %%
# Sharpening: an unsharp mask as one kernel
# -----------------------------------------
# ``image + amount * (image - blur)`` is linear in the image, so it is one
# convolution with ``(1 + amount) * delta - amount * gaussian``.
amount = 1.5
g2 = np.outer(g, g)
kernel = -amount * g2
kernel[radius, radius] += 1 + amount
sharp = fastconv.convolve(image, kernel, mode="same")
ref = scipy.signal.convolve(image, kernel, mode="same")
print(f"sharpen: largest difference from SciPy {np.abs(sharp - ref).max():.1e}")

# %%
# The four images
# ---------------
fig, axes = plt.subplots(1, 4, figsize=(12, 3.9))
panels = [(image, "original"),
          (blur, f"Gaussian blur, sigma {sigma:g}"),
          (edges, "Sobel gradient magnitude"),
          (np.clip(sharp, 0, 1), "unsharp mask")]
for ax, (img, title) in zip(axes, panels):
    ax.imshow(img, cmap="gray")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()
plt.show()
