public enum _PlaceholderCouponRankTestSupport {}
