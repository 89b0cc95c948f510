//! The pixel canvas both LOLWUT versions draw on (Redis's lwCanvas): a width x height grid of small colour
//! numbers, lines by Bresenham, squares rotated about their centre, with Redis's float and double roundings.

/// Redis's own (truncated) square root of 2: with the exact one, some squares come out a pixel larger.
#[allow(clippy::approx_constant)]
const REDIS_SQRT_2: f64 = 1.4142135623;

pub struct Canvas {
    pub width: i32,
    pub height: i32,
    pixels: Vec<u8>,
}

impl Canvas {
    pub fn new(width: i32, height: i32, background: u8) -> Canvas {
        let size = (width.max(0) as usize) * (height.max(0) as usize);
        Canvas {
            width,
            height,
            pixels: vec![background; size],
        }
    }

    fn index(&self, x: i32, y: i32) -> Option<usize> {
        let inside = (0..self.width).contains(&x) && (0..self.height).contains(&y);
        inside.then(|| (x + y * self.width) as usize)
    }

    /// Pixels outside the canvas are dropped.
    pub fn draw(&mut self, x: i32, y: i32, color: u8) {
        if let Some(i) = self.index(x, y) {
            self.pixels[i] = color;
        }
    }

    /// Outside the canvas reads as 0.
    pub fn get(&self, x: i32, y: i32) -> u8 {
        self.index(x, y).map_or(0, |i| self.pixels[i])
    }

    pub fn line(&mut self, mut x1: i32, mut y1: i32, x2: i32, y2: i32, color: u8) {
        let (dx, dy) = ((x2 - x1).abs(), (y2 - y1).abs());
        let sx = if x1 < x2 { 1 } else { -1 };
        let sy = if y1 < y2 { 1 } else { -1 };
        let mut err = dx - dy;
        loop {
            self.draw(x1, y1, color);
            if x1 == x2 && y1 == y2 {
                break;
            }
            let e2 = err * 2;
            if e2 > -dy {
                err -= dy;
                x1 += sx;
            }
            if e2 < dx {
                err += dx;
                y1 += sy;
            }
        }
    }

    /// A square of side `size` centred on (x, y), turned by `angle` radians. The arithmetic is Redis's: `size`
    /// and the running angle are C floats, the trigonometry is done in doubles.
    pub fn square(&mut self, x: i32, y: i32, size: f32, angle: f32, color: u8) {
        let size = (size as f64 / REDIS_SQRT_2) as f32;
        let size = (size as f64).round() as f32;
        let mut k = (std::f64::consts::FRAC_PI_4 + angle as f64) as f32;
        let mut px = [0i32; 4];
        let mut py = [0i32; 4];
        for j in 0..4 {
            px[j] = ((k as f64).sin() * size as f64 + x as f64).round() as i32;
            py[j] = ((k as f64).cos() * size as f64 + y as f64).round() as i32;
            k = (k as f64 + std::f64::consts::FRAC_PI_2) as f32;
        }
        for j in 0..4 {
            let n = (j + 1) % 4;
            self.line(px[j], py[j], px[n], py[n], color);
        }
    }
}
