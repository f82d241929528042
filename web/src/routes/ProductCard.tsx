import { Link } from "@tanstack/react-router";
import { formatMoney } from "../money";
import type { Product } from "./queries";

export function ProductCard({ product }: { product: Product }) {
  const img = product.images[0];
  return (
    <article className="card" aria-label={product.name}>
      {img ? <img src={img} alt="" loading="lazy" /> : <div className="card-noimg" aria-hidden="true" />}
      <h3>
        <Link to="/products/$id" params={{ id: product.id }}>
          {product.name}
        </Link>
      </h3>
      {product.brand ? <p className="muted">{product.brand}</p> : null}
      <p className="price">{formatMoney(product.price, product.currency)}</p>
      {product.stock.available <= 0 ? <p className="stock out">Out of stock</p> : null}
    </article>
  );
}
