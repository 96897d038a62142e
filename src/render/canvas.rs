//! Pixel drawing on an `RgbImage`: rectangles, lines and 8×8 bitmap text, all clipped to the
//! image, so callers can pass coordinates outside it.
#![forbid(unsafe_code)]

use image::{Rgb, RgbImage};

/// Width and height of one glyph of the `font8x8` font, in pixels.
pub(crate) const GLYPH_PX: u32 = 8;

/// Sets the pixel at (`x`, `y`) if it lies inside the image.
pub(crate) fn put(image: &mut RgbImage, x: i64, y: i64, colour: Rgb<u8>) {
    if x >= 0 && y >= 0 && x < i64::from(image.width()) && y < i64::from(image.height()) {
        image.put_pixel(x as u32, y as u32, colour);
    }
}

/// Mixes `colour` into the pixel at (`x`, `y`) with opacity `alpha` in [0, 1].
pub(crate) fn blend(image: &mut RgbImage, x: i64, y: i64, colour: Rgb<u8>, alpha: f32) {
    if x >= 0 && y >= 0 && x < i64::from(image.width()) && y < i64::from(image.height()) {
        let alpha = alpha.clamp(0.0, 1.0);
        let pixel = image.get_pixel_mut(x as u32, y as u32);
        for (channel, &new) in pixel.0.iter_mut().zip(&colour.0) {
            let mixed = f32::from(*channel) * (1.0 - alpha) + f32::from(new) * alpha;
            *channel = mixed.round() as u8;
        }
    }
}

/// Fills the rectangle of `width` × `height` pixels whose top-left corner is (`x`, `y`).
pub(crate) fn fill_rect(
    image: &mut RgbImage,
    x: i64,
    y: i64,
    width: i64,
    height: i64,
    colour: Rgb<u8>,
) {
    let x0 = x.max(0);
    let y0 = y.max(0);
    let x1 = (x + width).min(i64::from(image.width()));
    let y1 = (y + height).min(i64::from(image.height()));
    for yy in y0..y1 {
        for xx in x0..x1 {
            image.put_pixel(xx as u32, yy as u32, colour);
        }
    }
}

/// Draws a one-pixel line from (`x0`, `y0`) to (`x1`, `y1`), both ends included.
pub(crate) fn line(image: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, colour: Rgb<u8>) {
    // Bresenham's algorithm (Bresenham 1965, IBM Systems Journal 4(1)), all octants.
    let dx = (x1 - x0).abs();
    let dy = -(y1 - y0).abs();
    let sx = if x0 < x1 { 1 } else { -1 };
    let sy = if y0 < y1 { 1 } else { -1 };
    let (mut x, mut y, mut error) = (x0, y0, dx + dy);
    loop {
        put(image, x, y, colour);
        if x == x1 && y == y1 {
            break;
        }
        let doubled = 2 * error;
        if doubled >= dy {
            error += dy;
            x += sx;
        }
        if doubled <= dx {
            error += dx;
            y += sy;
        }
    }
}

/// The width of `text` in pixels.
pub(crate) fn text_width(text: &str) -> i64 {
    text.chars().count() as i64 * i64::from(GLYPH_PX)
}

/// Draws `text` with its top-left corner at (`x`, `y`), stopping before `max_width` pixels.
/// Characters outside ASCII are drawn as `?` (the font's basic block is ASCII only).
pub(crate) fn text(image: &mut RgbImage, x: i64, y: i64, text: &str, colour: Rgb<u8>) {
    text_clipped(image, x, y, text, colour, i64::MAX);
}

/// Like [`text`], but draws only the whole glyphs that fit within `max_width` pixels.
pub(crate) fn text_clipped(
    image: &mut RgbImage,
    x: i64,
    y: i64,
    text: &str,
    colour: Rgb<u8>,
    max_width: i64,
) {
    let glyph_px = i64::from(GLYPH_PX);
    let fitting = usize::try_from(max_width / glyph_px).unwrap_or(0);
    for (index, character) in text.chars().take(fitting).enumerate() {
        let code = if character.is_ascii() { character } else { '?' } as usize;
        let glyph = font8x8::legacy::BASIC_LEGACY[code];
        let left = x + index as i64 * glyph_px;
        for (row, bits) in glyph.iter().enumerate() {
            for column in 0..GLYPH_PX {
                // font8x8 stores each row with its leftmost pixel in the lowest bit.
                if bits >> column & 1 == 1 {
                    put(image, left + i64::from(column), y + row as i64, colour);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawing_outside_image_is_clipped() {
        let mut image = RgbImage::new(4, 4);
        let white = Rgb([255, 255, 255]);
        fill_rect(&mut image, -10, -10, 12, 12, white);
        line(&mut image, -5, 2, 10, 2, white);
        text(&mut image, 2, 2, "héllo", white);
        assert_eq!(image.get_pixel(0, 0), &white);
        assert_eq!(image.get_pixel(3, 2), &white);
    }

    #[test]
    fn text_clipped_draws_whole_glyphs_only() {
        let mut image = RgbImage::new(32, 8);
        text_clipped(&mut image, 0, 0, "MMMM", Rgb([255, 0, 0]), 12);
        let lit_past_first = (8..32).any(|x| (0..8).any(|y| image.get_pixel(x, y).0[0] > 0));
        assert!(!lit_past_first);
    }
}
