//! LOLWUT VERSION 6 [cols [rows]]: a city skyline in four shades drawn with ANSI colours, after the 8 bit game
//! Plaguemon, as Redis's lolwut6.c: two rows of grey buildings behind black ones with lit windows.

use super::canvas::Canvas;
use super::rand::Rand;

pub fn lolwut6(numbers: &[i64], rand: &mut Rand) -> String {
    let cols = super::arg(numbers, 0, 80, 1000) as i32;
    let rows = super::arg(numbers, 1, 20, 1000) as i32;
    let mut canvas = Canvas::new(cols, rows, 3);
    skyline(rand, &mut canvas);
    let mut text = render(&canvas);
    text.push_str(
        "\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. ",
    );
    text
}

struct Building {
    xoff: i32,
    width: i32,
    height: i32,
    windows: bool,
    color: u8,
}

/// One building from the bottom up; its roof is two pixels narrower on each side, its windows (two pixels wide,
/// every other row) take a random colour other than the wall's.
fn building(rand: &mut Rand, canvas: &mut Canvas, b: &Building) {
    let start = canvas.height - 1;
    let end = start - b.height + 1;
    for y in (end..=start).rev() {
        for x in b.xoff..b.xoff + b.width {
            if y == end && (x <= b.xoff + 1 || x >= b.xoff + b.width - 2) {
                continue;
            }
            let mut color = b.color;
            let inner = x > b.xoff + 1 && x < b.xoff + b.width - 2 && y > end + 1 && y < start - 1;
            if b.windows && inner {
                let (relx, rely) = (x - (b.xoff + 1), y - (end + 1));
                if (relx / 2) % 2 != 0 && rely % 2 != 0 {
                    loop {
                        color = 1 + (rand.next() % 2) as u8;
                        if color != b.color {
                            break;
                        }
                    }
                    if relx % 2 != 0 {
                        color = canvas.get(x - 1, y);
                    }
                }
            }
            canvas.draw(x, y, color);
        }
    }
}

/// The light grey row, the dark grey row, then the black buildings with windows, in Redis's order of `rand()`.
fn skyline(rand: &mut Rand, canvas: &mut Canvas) {
    let h = canvas.height;
    for color in [2u8, 1] {
        let mut offset = -10;
        while offset < canvas.width {
            offset += rand.next() % 8;
            let width = 10 + rand.next() % 9;
            let height = match color {
                2 => h / 2 + (rand.next() % h) / 2,
                _ => h / 2 + (rand.next() % h) / 3,
            };
            let b = Building {
                xoff: offset,
                width,
                height,
                windows: false,
                color,
            };
            building(rand, canvas, &b);
            offset += if color == 2 { width / 2 } else { width + 1 };
        }
    }
    let mut offset = -10;
    while offset < canvas.width {
        offset += rand.next() % 8;
        let mut width = 5 + rand.next() % 14;
        if width % 4 != 0 {
            width += width % 3;
        }
        let height = h / 3 + (rand.next() % h) / 2;
        let b = Building {
            xoff: offset,
            width,
            height,
            windows: true,
            color: 0,
        };
        building(rand, canvas, &b);
        offset += width + 5;
    }
}

/// One space per pixel, foreground and background set to the pixel's shade.
fn render(canvas: &Canvas) -> String {
    let mut text = String::new();
    for y in 0..canvas.height {
        for x in 0..canvas.width {
            let shade = match canvas.get(x, y) {
                1 => "0;90;100m",
                2 => "0;37;47m",
                3 => "0;97;107m",
                _ => "0;30;40m",
            };
            text.push_str("\x1b[");
            text.push_str(shade);
            text.push_str(" \x1b[0m");
        }
        if y != canvas.height - 1 {
            text.push('\n');
        }
    }
    text
}
