import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { ProductRow } from "../api/types";
import { ProductTable } from "./ProductTable";
import { Thumb } from "./Thumb";

const row = (over: Partial<ProductRow>): ProductRow => ({
  product_id: "gid://shopify/Product/1",
  title: "Fig Leaf Candle",
  available_units: 10,
  days_of_cover: 12,
  spend: 100,
  revenue: 400,
  roas: 4,
  status: "aligned",
  ...over,
});

describe("product thumbnails", () => {
  it("load lazily at a fixed size with the merchant's alt text", () => {
    render(<Thumb item={{ image_url: "https://cdn.shopify.com/s/files/1/0612/3456/7890/files/fig.jpg?v=1", image_alt: "A fig candle" }} />);
    const img = screen.getByRole("img", { name: "A fig candle" }) as HTMLImageElement;
    expect(img.getAttribute("loading")).toBe("lazy");
    expect(img.getAttribute("width")).toBe("32");
    expect(img.getAttribute("height")).toBe("32");
    expect(img.src).toContain("cdn.shopify.com");
  });

  it("keep the space, and say nothing, for a product without a picture or with a non-http URL", () => {
    const { container } = render(
      <>
        <Thumb item={{ image_url: null }} />
        <Thumb item={{ image_url: "javascript:alert(1)" }} />
      </>,
    );
    expect(container.querySelectorAll("img")).toHaveLength(0);
    const blanks = container.querySelectorAll(".thumb-none");
    expect(blanks).toHaveLength(2);
    expect(blanks[0].getAttribute("aria-hidden")).toBe("true");
  });

  it("show in the product table beside each title, decorative when the merchant wrote no alt text", () => {
    const { container } = render(
      <ProductTable
        rows={[
          row({ image_url: "http://127.0.0.1:9/s/files/1/0000/0000/0001/files/fig.png?v=1", image_alt: "Fig on a shelf" }),
          row({ product_id: "gid://shopify/Product/2", title: "Pine Tin", image_url: "http://127.0.0.1:9/p.png", image_alt: null }),
          row({ product_id: "gid://shopify/Product/3", title: "Bare Soap", image_url: null }),
        ]}
        currency="USD"
        partial={false}
      />,
    );
    const fig = screen.getByRole("rowheader", { name: /Fig Leaf Candle/ });
    expect(within(fig).getByRole("img", { name: "Fig on a shelf" })).toBeTruthy();
    const pine = screen.getByRole("rowheader", { name: /Pine Tin/ });
    expect(pine.querySelector("img")!.getAttribute("alt")).toBe("");
    expect(screen.getByRole("rowheader", { name: /Bare Soap/ }).querySelector(".thumb-none")).toBeTruthy();
    expect(container.textContent).not.toContain("gid://");
  });
});

describe("a thumbnail's alt text", () => {
  it("is dropped when it only repeats the product name beside it", () => {
    const { container } = render(<Thumb item={{ image_url: "https://cdn.shopify.com/a.png", image_alt: "Fig Candle " }} name="fig candle" />);
    expect(container.querySelector("img")!.getAttribute("alt")).toBe("");
  });
});
