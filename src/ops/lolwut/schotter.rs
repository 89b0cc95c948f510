//! LOLWUT VERSION 5 [cols [squares-per-row [squares-per-col]]]: Georg Nees' Schotter (1968), squares that
//! tumble more the lower the row, drawn with Braille characters (2x4 pixels each), as Redis's lolwut5.c.

use super::canvas::Canvas;
use super::rand::{Rand, RAND_MAX};

pub fn lolwut5(numbers: &[i64], rand: &mut Rand) -> String {
    let cols = super::arg(numbers, 0, 66, 1000) as i32;
    let per_row = super::arg(numbers, 1, 8, 200) as i32;
    let per_col = super::arg(numbers, 2, 12, 200) as i32;
    let canvas = schotter(rand, cols, per_row, per_col);
    let mut text = render(&canvas);
    text.push_str("\nGeorg Nees - schotter, plotter on paper, 1968. ");
    text
}

/// The squares, in Redis's order of `rand()` calls (rows below the second are moved and turned at random).
fn schotter(rand: &mut Rand, cols: i32, per_row: i32, per_col: i32) -> Canvas {
    let width = cols * 2;
    let padding = if width > 4 { 2 } else { 0 };
    let side = (width - padding * 2) as f32 / per_row as f32;
    let height = (side * per_col as f32 + (padding * 2) as f32) as i32;
    let mut canvas = Canvas::new(width, height, 0);
    let unit =
        |rand: &mut Rand, y: i32| rand.next() as f32 / RAND_MAX as f32 / per_col as f32 * y as f32;
    for y in 0..per_col {
        for x in 0..per_row {
            let mut sx = (x as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut sy = (y as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut angle = 0.0f32;
            if y > 1 {
                let mut r1 = unit(rand, y);
                let mut r2 = unit(rand, y);
                let mut r3 = unit(rand, y);
                for r in [&mut r1, &mut r2, &mut r3] {
                    if rand.next() % 2 != 0 {
                        *r = -*r;
                    }
                }
                angle = r1;
                sx = (sx as f32 + r2 * side / 3.0) as i32;
                sy = (sy as f32 + r3 * side / 3.0) as i32;
            }
            canvas.square(sx, sy, side, angle, 1);
        }
    }
    canvas
}

/// Braille cells: each character holds 2x4 pixels, dot bits in the Unicode Braille order.
fn render(canvas: &Canvas) -> String {
    const DOTS: [(i32, i32); 8] = [
        (0, 0),
        (0, 1),
        (0, 2),
        (1, 0),
        (1, 1),
        (1, 2),
        (0, 3),
        (1, 3),
    ];
    let mut text = String::new();
    for y in (0..canvas.height).step_by(4) {
        for x in (0..canvas.width).step_by(2) {
            let bits = DOTS
                .iter()
                .enumerate()
                .filter(|(_, (dx, dy))| canvas.get(x + dx, y + dy) != 0)
                .fold(0u32, |acc, (bit, _)| acc | 1 << bit);
            text.push(char::from_u32(0x2800 + bits).unwrap_or(' '));
        }
        if y != canvas.height - 1 {
            text.push('\n');
        }
    }
    text
}
