import { describe, expect, it } from "vitest";
import { literalDigits } from "../../schemas/literal-digits.js";

describe("the digits of a program's literals", () => {
  it("joins strings, bytes and numbers in source order, skipping names and comments", () => {
    expect(literalDigits("x1 = 12  # 99\ny = 'a3b4'\nz = b'5' + rb\"6\\\"7\"")).toBe("1234567");
  });

  it("reads triple-quoted strings, floats, exponents, hex and f-strings", () => {
    expect(literalDigits("s = '''1\n2'''\nf = 3.5e-2\nh = 0x1F\nt = f'{8}x'")).toBe("12352" + "1" + "8");
  });

  it("stops a one-line string at the end of its line", () => {
    expect(literalDigits("s = '12\nx = 3")).toBe("123");
  });
});
