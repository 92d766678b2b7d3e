// A product's picture, small: the featured image the Shopify sync stored (image_url, image_alt), loaded
// lazily at a fixed size so the layout does not jump; a product without one keeps the same space.
// The image sits beside the product's name, so its alt text is the merchant's own description when
// there is one and says more than the name; otherwise it is empty (a screen reader would say the name
// twice: axe's image-redundant-alt).

export interface Pictured {
  image_url?: string | null;
  image_alt?: string | null;
}

const SAFE = /^(https?:)?\/\//i;

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** `name`: the product name shown beside the picture (an alt text that only repeats it is dropped). */
export function Thumb({ item, name = "", size = 32 }: { item: Pictured; name?: string; size?: number }) {
  const url = item.image_url && SAFE.test(item.image_url) ? item.image_url : null;
  const alt = item.image_alt && !same(item.image_alt, name) ? item.image_alt : "";
  if (!url) return <span className="thumb thumb-none" style={{ width: size, height: size }} aria-hidden="true" />;
  return (
    <img
      className="thumb"
      src={url}
      alt={alt}
      width={size}
      height={size}
      loading="lazy"
      decoding="async"
    />
  );
}
